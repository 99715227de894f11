/**
 * `deno task zeroshot --model <folder or file> [--dataset ...] [--split ...]`: CLIP's prompt
 * zero-shot classification under both protocols (all classes; ZSL / GZSL of the split). See
 * src/cli/zeroshot.ts.
 *
 * libgomp's threads are told to sleep while waiting (see scripts/train.ts); libtorch reads it
 * when it is loaded, hence the dynamic import.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/zeroshot.ts");
await main(Deno.args);

/**
 * `deno task attributes --model DIR [options]`: collect a class × attribute matrix with CLIP and
 * write it (CSV, JSON, groups, HTML) in the formats `deno task train` reads. `--help` lists the
 * options; see src/cli/attributes.ts.
 *
 * libgomp's threads are told to sleep while waiting (see scripts/train.ts); libtorch reads it
 * when it is loaded, hence the dynamic import.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/attributes.ts");
await main(Deno.args);

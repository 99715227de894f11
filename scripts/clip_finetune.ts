/**
 * `deno task clip:finetune [options]`: contrastive CLIP training on image–caption pairs (a small
 * CLIP from scratch on the synthetic scenes' captions by default). `--help` lists the options;
 * see src/cli/clip_finetune.ts.
 *
 * libgomp's threads are told to sleep while waiting (as `deno task train` does: spinning makes
 * libtorch several times slower on a busy machine); libtorch reads it when it is loaded, hence
 * the dynamic import.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/clip_finetune.ts");
await main(Deno.args);

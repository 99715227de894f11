/**
 * `deno task train [flags]`: train DSVA and evaluate it; with no flags, the built-in default run
 * (synthetic scenes, a tiny ViT from scratch, on the CPU, a few minutes). `--help` lists the
 * flags; see src/cli/train_main.ts.
 *
 * libgomp's worker threads spin while waiting by default, which on a busy 2-core machine makes
 * libtorch several times slower; they are told to sleep instead (set `OMP_WAIT_POLICY` yourself to
 * change it). libtorch reads it when it is loaded, hence the dynamic import.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/train_main.ts");
await main(Deno.args);

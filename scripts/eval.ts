/**
 * `deno task eval --run <runDir>` (or `--checkpoint <file>`): ZSL, GZSL S / U / H with
 * calibrated stacking, AUSUC and per-branch results of a trained DSVA; `--help` lists the flags;
 * see src/cli/eval_main.ts.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/eval_main.ts");
await main(Deno.args);

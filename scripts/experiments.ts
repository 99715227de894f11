/**
 * `deno task experiments --config <file>` (or `--quick`): a resumable grid of DSVA training +
 * evaluation runs and one report; `--help` lists the flags; see src/cli/experiments.ts.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/experiments.ts");
await main(Deno.args);

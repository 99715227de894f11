/**
 * `deno task viz --run <runDir> [--images N]`: attention maps, AC boxes, predicted vs true class
 * and attributes for test images of a trained run; see src/cli/viz.ts.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/viz.ts");
await main(Deno.args);

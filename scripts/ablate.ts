/**
 * `deno task ablate [--quick]`: (1) compatibility loss only, no AC; (2) + regression; (3) + AC;
 * ViT vs CNN — one table; see src/experiments/ablate_main.ts.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/experiments/ablate_main.ts");
await main(Deno.args);

/**
 * `deno task ablate [--quick]`: (1) compatibility loss only, no AC; (2) + regression; (3) + AC;
 * ViT vs CNN — one table; see src/cli/ablate.ts.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/ablate.ts");
await main(Deno.args);

/**
 * `deno task clip:demo`: on the synthetic scenes, train a small CLIP from scratch on the
 * captions, collect attributes for every class with it, then train DSVA on them and on the true
 * attributes with the same budget and print both ZSL accuracies. See
 * src/cli/clip_demo.ts.
 *
 * libgomp's threads are told to sleep while waiting (see scripts/train.ts); libtorch reads it
 * when it is loaded, hence the dynamic import.
 */
if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
const { main } = await import("../src/cli/clip_demo.ts");
await main(Deno.args);

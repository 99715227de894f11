/**
 * The training config's defaults that are not the recipe's or the backbone's: the default run
 * (synthetic scenes, a `cpu-tiny` ViT from scratch, the clean recipe, 8 epochs × 40 batches on
 * the CPU) and the settings every run shares. Resolution (`resolve.ts`) reads each from here, the
 * recipe-dependent ones from `src/dsva/recipes.ts`, the synthetic scenes' size from
 * `src/data/synthetic/defaults.ts`.
 * @module
 */

/** The default run's values. */
export const DEFAULTS = {
  name: "default",
  recipe: "clean",
  /** The ViT preset when the config names no backbone. */
  vitPreset: "cpu-tiny",
  /** Learning rate of heads and backbone for a ViT trained from scratch (the recipe's 1e-6 for
   * the backbone would leave a random backbone random). */
  scratchLr: 1e-3,
  attributeScale: "max",
  acEnabled: true,
  epochs: 8,
  batchesPerEpoch: 40,
  seed: 0,
  device: "cpu",
  autocast: "none",
  threads: "auto",
  selectionMetric: "zsl",
  /** Held-out fraction of each seen class when the selection is `heldout`. */
  heldoutFraction: 0.1,
  gammaRetain: 0.8,
  evalEvery: 1,
  monitorTest: true,
  loaderConcurrency: 4,
  workers: 0,
  onBadImage: "fail",
  runsDir: "runs",
  pictures: 6,
  maxSteps: 0,
} as const;

/** The number of threads `auto` means: the machine's cores (at most 16). */
export function autoThreads(): number {
  return Math.max(1, Math.min(16, navigator.hardwareConcurrency ?? 1));
}

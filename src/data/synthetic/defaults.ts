/** The synthetic scenes' default size, in one place: the generator, the training config and
 * the CLIP fine-tuning config all start from it (no image code imported here). */
export const SYNTHETIC_DEFAULTS = Object.freeze({
  /** Seed of every image, split and caption. */
  seed: 0,
  /** Images per class. */
  imagesPerClass: 40,
  /** Image side in pixels. */
  size: 96,
  /** Fraction of each seen class used for training; the rest is test_seen. */
  trainFraction: 0.8,
});

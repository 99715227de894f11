/** The image transforms of CLIP training and evaluation (before normalization with CLIP's
 * statistics, which the loader applies).
 * @module
 */
import {
  CenterCrop,
  Compose,
  RandomHorizontalFlip,
  RandomResizedCrop,
  RandomVerticalFlip,
  Resize,
  type Transform,
} from "../data/transforms.ts";

/** The training augmentation: RandomResizedCrop's smallest area fraction and the flips. */
export interface ClipAugment {
  minScale: number;
  hflip: boolean;
  vflip: boolean;
}

/** Training augmentation at `size`: RandomResizedCrop(size, scale [minScale, 1]), then the
 * flips asked for (aerial images have no up). torchvision's `RandomResizedCrop` +
 * `RandomHorizontalFlip` + `RandomVerticalFlip` in a `Compose`. */
export function clipTrainTransform(augment: ClipAugment, size: number): Transform {
  const steps = [RandomResizedCrop(size, { scale: [augment.minScale, 1] })];
  if (augment.hflip) steps.push(RandomHorizontalFlip());
  if (augment.vflip) steps.push(RandomVerticalFlip());
  return Compose(...steps);
}

/** The evaluation transform of a CLIP at `size`: Resize(size) → CenterCrop(size), as
 * `CLIPImageProcessor` / OpenAI's `preprocess` do. */
export function clipEvalTransform(size: number): Transform {
  return Compose(Resize(size), CenterCrop(size));
}

/** Host batches to libtorch tensors: the one data file that loads the native library, so the
 * `data` namespace does not export it (the `train` namespace does; library code imports it). */
import { fromBuffer } from "../tensor/index.ts";
import type { Device, Tensor } from "../tensor/index.ts";
import type { RgbImage } from "./image.ts";
import { type HostBatch, IMAGENET, type Normalization, stackImages } from "./normalize.ts";

/** Copies a {@link HostBatch} into a float32 NCHW tensor. */
export function batchToTensor(batch: HostBatch, device?: Device): Tensor {
  return fromBuffer(batch.data, batch.shape, { dtype: "float32", device });
}

/** Stacks and normalises same-sized images into a float32 NCHW tensor. */
export function imagesToTensor(
  imgs: readonly RgbImage[],
  norm: Normalization = IMAGENET,
  device?: Device,
): Tensor {
  return batchToTensor(stackImages(imgs, norm), device);
}

/** Class labels as an int64 tensor. */
export function labelsToTensor(labels: readonly number[], device?: Device): Tensor {
  return fromBuffer(BigInt64Array.from(labels, BigInt), [labels.length], {
    dtype: "int64",
    device,
  });
}

/**
 * The `io` namespace: weight files and checkpoints. safetensors read and written (header parsing
 * kept apart from tensor creation), checkpoints as safetensors with a nested JSON state, PyTorch
 * `.bin` pickles (zip or legacy) read without Python, TF.js `model.json` weights, the
 * `TensorMap` of named tensors they all return, their errors, and escaping for the HTML and SVG
 * that reports write.
 * @module
 */
export { WeightFileError } from "./errors.ts";
export { TensorMap } from "./tensor_map.ts";
export {
  loadSafetensors,
  type LoadSafetensorsOptions,
  type NamedTensors,
  readSafetensorsHeader,
  type SafetensorsEntry,
  type SafetensorsHeader,
  saveSafetensors,
} from "./safetensors.ts";
export {
  CHECKPOINT_STATE_KEY,
  CHECKPOINT_VERSION_KEY,
  type CheckpointState,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
export type { StateValue } from "./state_tree.ts";
export { loadTfjsModel, type TfjsLayer, type TfjsModel, type TfjsWeightSpec } from "./tfjs.ts";
export { loadTorchBin, loadTorchScript } from "./torch_bin.ts";

/** The `io` namespace: weight files and checkpoints. */
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
export { loadTorchBin } from "./torch_bin.ts";

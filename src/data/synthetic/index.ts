/** The built-in synthetic aerial-scene dataset. */
export { cacheRoot } from "../../../ffi/cache_root.ts";
export {
  ensureSyntheticDataset,
  openSyntheticDataset,
  SYNTHETIC_SPLIT,
  SYNTHETIC_VERSION,
  syntheticDir,
} from "./generate.ts";
export type { SyntheticDataset, SyntheticOptions } from "./generate.ts";
export { renderScene } from "./scene.ts";
export type { SceneNotes } from "./scene.ts";
export { sceneCaptions } from "./captions.ts";
export { contactSheet } from "./contact_sheet.ts";
export type { ContactSheetOptions } from "./contact_sheet.ts";
export {
  SCENE_ATTRIBUTES,
  SCENE_CLASSES,
  sceneAttributeMatrix,
  sceneGroups,
} from "./vocabulary.ts";
export type { SceneAttribute, SceneClass } from "./vocabulary.ts";

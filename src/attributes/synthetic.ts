/** The synthetic scenes as an attribute-collection benchmark: their vocabulary (names, DSVA
 * groups, and the phrases the captions use), their true class × attribute matrix, and prompt
 * templates in the captions' own style. */
import {
  SCENE_ATTRIBUTES,
  SCENE_CLASSES,
  sceneAttributeMatrix,
} from "../data/synthetic/vocabulary.ts";
import { type AttributeVocabulary, makeVocabulary } from "./vocabulary.ts";

/** The synthetic attributes with their groups and caption phrases. */
export function syntheticVocabulary(): AttributeVocabulary {
  return makeVocabulary(
    SCENE_ATTRIBUTES.map((a) => ({ name: a.name, group: a.group, phrases: [...a.phrases] })),
  );
}

/** The true 0/1 attributes, with class and attribute names. */
export function syntheticTruth(): { classes: string[]; attributes: string[]; values: number[][] } {
  return {
    classes: SCENE_CLASSES.map((c) => c.name),
    attributes: SCENE_ATTRIBUTES.map((a) => a.name),
    values: sceneAttributeMatrix(),
  };
}

/** Templates built from the synthetic captions' openings (`an aerial image of ...`), so that a
 * CLIP trained only on those captions knows every word of the prompt. (A real RS CLIP would
 * use `DEFAULT_TEMPLATES` / `RS_TEMPLATES`.) */
export const SYNTHETIC_TEMPLATES: readonly string[] = [
  "an aerial image of {}.",
  "a satellite view of {}.",
  "an overhead photo of {}.",
  "a remote sensing image of {}.",
];

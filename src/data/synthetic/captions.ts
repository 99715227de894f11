/** Captions for synthetic scenes (for CLIP-style text supervision). */
import type { Rng } from "../rng.ts";
import type { SceneNotes } from "./scene.ts";
import { SCENE_ATTRIBUTES, type SceneClass } from "./vocabulary.ts";

const PREFIX = [
  "an aerial image of",
  "a satellite view of",
  "an overhead photo of",
  "a remote sensing image of",
];

function list(xs: string[]): string {
  return xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
}

function count(n: number, one: string, many: string): string | null {
  if (n === 0) return null;
  if (n === 1) return `one ${one}`;
  return `${n > 20 ? "many" : n} ${many}`;
}

/** Three captions: the class, its attributes in words, and what was counted in the picture. */
export function sceneCaptions(cls: SceneClass, notes: SceneNotes, rng: Rng): string[] {
  const phrase = (name: string) => rng.pick(SCENE_ATTRIBUTES.find((a) => a.name === name)!.phrases);
  const things = cls.attributes.filter((a) =>
    SCENE_ATTRIBUTES.find((x) => x.name === a)!.group !== "surface_properties"
  );
  const layout = cls.attributes.filter((a) =>
    SCENE_ATTRIBUTES.find((x) => x.name === a)!.group === "surface_properties"
  );
  const shown = rng.shuffle(things.map(phrase));
  const how = layout.map(phrase);
  const counted = [
    count(notes.buildings, "building", "buildings"),
    count(notes.trees, "tree", "trees"),
    count(notes.boats, "boat", "boats"),
    count(notes.cars, "car", "cars"),
    count(notes.roundStructures, "round structure", "round structures"),
    count(notes.piers, "pier", "piers"),
    count(notes.tracks, "railway track", "railway tracks"),
  ].filter((x): x is string => x !== null);
  return [
    `${rng.pick(PREFIX)} ${cls.phrase}.`,
    `${rng.pick(PREFIX)} ${list(shown)}${how.length ? `, ${list(how)}` : ""}.`,
    counted.length
      ? `${list(counted)} seen from above in ${cls.phrase}.`
      : `${cls.phrase} seen from above, covered with ${shown[0]}.`,
  ];
}

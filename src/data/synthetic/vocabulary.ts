/** The synthetic scenes' attributes, their groups, and the classes as attribute compositions. */

/** One attribute: its name, DSVA group, and phrases captions use for it. */
export interface SceneAttribute {
  /** Its column name. */
  readonly name: string;
  /** Its DSVA group. */
  readonly group: "materials" | "functions" | "surface_properties";
  /** Words for it in captions. */
  readonly phrases: readonly string[];
}

/** The attribute vocabulary, in column order. */
export const SCENE_ATTRIBUTES: readonly SceneAttribute[] = [
  { name: "water", group: "materials", phrases: ["open water", "a body of water", "calm water"] },
  {
    name: "river",
    group: "materials",
    phrases: ["a river", "a winding river", "a narrow stream of water"],
  },
  { name: "grass", group: "materials", phrases: ["grass", "green meadow", "grassland"] },
  {
    name: "cropland",
    group: "materials",
    phrases: ["crop fields", "farm fields", "cultivated parcels"],
  },
  { name: "sand", group: "materials", phrases: ["sand", "a sandy shore", "pale sand"] },
  {
    name: "bare_soil",
    group: "materials",
    phrases: ["bare soil", "brown earth", "unpaved ground"],
  },
  { name: "trees", group: "materials", phrases: ["trees", "tree canopies", "green trees"] },
  {
    name: "pavement",
    group: "materials",
    phrases: ["pavement", "concrete ground", "paved surfaces"],
  },
  { name: "road", group: "functions", phrases: ["a road", "an asphalt road", "a street"] },
  {
    name: "intersection",
    group: "functions",
    phrases: ["a crossroads", "an intersection", "crossing roads"],
  },
  { name: "buildings", group: "functions", phrases: ["buildings", "houses", "roofs of buildings"] },
  { name: "rails", group: "functions", phrases: ["railway tracks", "rails", "train tracks"] },
  { name: "boats", group: "functions", phrases: ["boats", "small ships", "moored boats"] },
  { name: "pier", group: "functions", phrases: ["piers", "docks", "jetties"] },
  {
    name: "round_structures",
    group: "functions",
    phrases: ["round structures", "circular tanks", "circular shapes"],
  },
  { name: "cars", group: "functions", phrases: ["cars", "parked vehicles", "vehicles"] },
  {
    name: "dense",
    group: "surface_properties",
    phrases: ["densely packed", "crowded", "high density"],
  },
  {
    name: "sparse",
    group: "surface_properties",
    phrases: ["sparsely scattered", "few and far apart", "low density"],
  },
  {
    name: "rows",
    group: "surface_properties",
    phrases: ["arranged in rows", "in a regular grid", "in parallel lines"],
  },
  {
    name: "curvy",
    group: "surface_properties",
    phrases: ["curving", "meandering", "with smooth bends"],
  },
  {
    name: "large",
    group: "surface_properties",
    phrases: ["a large structure", "a single big building", "a massive roof"],
  },
];

/** A class: a name, a phrase for captions, and the attributes it is made of. */
export interface SceneClass {
  /** Folder and row name. */
  readonly name: string;
  /** Words for it in captions. */
  readonly phrase: string;
  /** Its attributes (names from {@link SCENE_ATTRIBUTES}). */
  readonly attributes: readonly string[];
  /** Unseen in the default split. */
  readonly unseen?: boolean;
}

/** The classes. Every unseen one is a new combination of attributes that seen classes show. */
export const SCENE_CLASSES: readonly SceneClass[] = [
  { name: "meadow", phrase: "a meadow", attributes: ["grass"] },
  { name: "forest", phrase: "a forest", attributes: ["trees", "dense"] },
  { name: "lake", phrase: "a lake", attributes: ["water", "grass", "trees"] },
  { name: "river", phrase: "a river", attributes: ["river", "grass", "trees", "curvy"] },
  { name: "beach", phrase: "a beach", attributes: ["sand", "water"] },
  { name: "farmland", phrase: "farmland", attributes: ["cropland", "rows"] },
  {
    name: "sparse_residential",
    phrase: "a sparse residential area",
    attributes: ["buildings", "sparse", "grass", "trees", "road", "cars"],
  },
  {
    name: "dense_residential",
    phrase: "a dense residential area",
    attributes: ["buildings", "dense", "road", "intersection", "rows", "pavement", "cars"],
  },
  { name: "parking", phrase: "a parking lot", attributes: ["pavement", "cars", "rows"] },
  {
    name: "storage_tanks",
    phrase: "storage tanks",
    attributes: ["round_structures", "pavement", "road", "intersection"],
  },
  {
    name: "harbor",
    phrase: "a harbor",
    attributes: ["water", "boats", "pier", "pavement", "rows", "large"],
  },
  {
    name: "railway",
    phrase: "a railway station",
    attributes: ["rails", "bare_soil", "buildings", "large"],
  },
  {
    name: "bridge",
    phrase: "a bridge",
    attributes: ["river", "road", "grass", "curvy"],
    unseen: true,
  },
  {
    name: "center_pivot",
    phrase: "center-pivot fields",
    attributes: ["cropland", "round_structures"],
    unseen: true,
  },
  {
    name: "industrial",
    phrase: "an industrial area",
    attributes: ["buildings", "large", "pavement", "road", "round_structures"],
    unseen: true,
  },
  {
    name: "intersection",
    phrase: "a road intersection",
    attributes: ["road", "intersection", "cars", "grass"],
    unseen: true,
  },
];

/** DSVA-style groups: group name → attribute columns. */
export function sceneGroups(): Record<string, number[]> {
  const g: Record<string, number[]> = { functions: [], materials: [], surface_properties: [] };
  SCENE_ATTRIBUTES.forEach((a, i) => g[a.group].push(i));
  return g;
}

/** The 0/1 class × attribute matrix, rows in {@link SCENE_CLASSES} order. */
export function sceneAttributeMatrix(): number[][] {
  const names = SCENE_ATTRIBUTES.map((a) => a.name);
  return SCENE_CLASSES.map((c) => {
    for (const a of c.attributes) {
      if (!names.includes(a)) throw new Error(`synthetic class ${c.name}: unknown attribute ${a}`);
    }
    return names.map((n) => (c.attributes.includes(n) ? 1 : 0));
  });
}

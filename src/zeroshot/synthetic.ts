/** Class descriptions of the built-in synthetic scenes for the prompts: each class as the words
 * its captions use for its attributes (`bridge` → "a river, a road and grass, curving"). The
 * default CLIP is trained on the seen classes' captions only, so it has never read an unseen
 * class's name; its attributes' words it has read. This is the alias map (`--aliases`) that
 * tells CLIP what DSVA's class-attribute matrix tells DSVA, in words. */
import { SCENE_ATTRIBUTES, SCENE_CLASSES } from "../data/synthetic/vocabulary.ts";

const list = (xs: string[]) =>
  xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;

/** Class name → description, every synthetic class. */
export function syntheticDescriptions(): Record<string, string> {
  const attr = (n: string) => SCENE_ATTRIBUTES.find((a) => a.name === n)!;
  return Object.fromEntries(SCENE_CLASSES.map((c) => {
    const things = c.attributes.filter((a) => attr(a).group !== "surface_properties");
    const layout = c.attributes.filter((a) => attr(a).group === "surface_properties");
    const words = list(things.map((a) => attr(a).phrases[0]));
    return [
      c.name,
      layout.length ? `${words}, ${list(layout.map((a) => attr(a).phrases[0]))}` : words,
    ];
  }));
}

/** Prompt templates for zero-shot classification: the built-in remote-sensing set, a user's
 * file (one template per line), or one template; each has `{}` where the class text goes. */
import { DataError } from "../data/errors.ts";

/** The built-in templates: ways remote-sensing captions and papers describe a scene, from
 * orbit and from aircraft, so that no single wording decides a class. */
export const REMOTE_SENSING_TEMPLATES: readonly string[] = [
  "a satellite image of a {}.",
  "a satellite photo of {}.",
  "an aerial photograph of {}.",
  "an aerial image of a {}.",
  "an overhead view of {}.",
  "a remote sensing image of a {}.",
  "a remote sensing image of {}.",
  "a top-down view of a {}.",
  "a high-resolution satellite image showing {}.",
  "an aerial view of a {} seen from above.",
  "a bird's-eye view of {}.",
  "{} seen from above.",
];

/** Checks templates: at least one, each with `{}`; `where` names their origin in errors. */
export function checkTemplates(templates: readonly string[], where: string): readonly string[] {
  if (templates.length === 0) throw new DataError(where, "holds no prompt templates");
  templates.forEach((t, i) => {
    if (!t.includes("{}")) {
      throw new DataError(
        where,
        `template ${i + 1} ${JSON.stringify(t)} has no "{}" where the class name goes`,
      );
    }
  });
  return templates;
}

/** Reads a template file: one template per line, blank lines and `#` comment lines skipped. A
 * file with no template is an error, as is a line without `{}` (named by its line number). */
export async function readPromptFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new DataError(path, `cannot read the prompt templates: ${(e as Error).message}`);
  }
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (!line.includes("{}")) {
      throw new DataError(path, `line ${i + 1} ${JSON.stringify(line)} has no "{}"`);
    }
    out.push(line);
  });
  if (out.length === 0) {
    throw new DataError(path, 'holds no prompt templates (one per line, with "{}" for the class)');
  }
  return out;
}

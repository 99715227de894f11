/** Reading a JSON training config file. Paths in it (`PATH_FIELDS`) are relative to the file's
 * own folder, as a user editing the file expects, and come back absolute. */
import { ConfigError } from "./errors.ts";
import { absolutePath, parentDir, resolvePathFields } from "./paths.ts";
import { parsePartialConfig, type PartialConfig } from "./schema.ts";

/** Reads and validates a JSON config file; its relative paths resolve against its folder. */
export async function readConfigFile(path: string): Promise<PartialConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError(`cannot read the config file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const folder = parentDir(absolutePath(Deno.cwd(), path));
  return parsePartialConfig(resolvePathFields(json, folder), () => path);
}

/** Reading a JSON training config file. */
import { ConfigError } from "./errors.ts";
import { parsePartialConfig, type PartialConfig } from "./schema.ts";

/** Reads and validates a JSON config file. */
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
  return parsePartialConfig(json, () => path);
}

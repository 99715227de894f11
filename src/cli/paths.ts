/** Paths typed on a command line, resolved where the user typed them. `deno task` runs every
 * task in the project root and passes the caller's directory in `INIT_CWD`; a plain `deno run`
 * leaves it unset, and the process's own directory is the caller's. Every command reads its
 * path flags through {@link userPath}, so the paths it prints are absolute. */
import { absolutePath } from "../config/paths.ts";

/** The directory the user typed the command in. */
export function callerDir(): string {
  const init = Deno.env.get("INIT_CWD");
  return init && init.startsWith("/") ? init : Deno.cwd();
}

/** A path from the command line, absolute (a relative one against {@link callerDir}). Also a
 * commander argument parser: `.option("--out <dir>", "...", userPath)`. */
export function userPath(p: string): string {
  return absolutePath(callerDir(), p);
}

/** Whether `dir` exists and holds anything (a file that is not a folder counts as holding). */
export function nonEmpty(dir: string): boolean {
  try {
    if (!Deno.statSync(dir).isDirectory) return true;
    for (const _ of Deno.readDirSync(dir)) return true;
    return false;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

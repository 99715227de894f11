/** How the `deno task` commands end on bad input: `<task>: <message>` on stderr for people (one
 * line, no stack), `{"error": <message>}` as the last stdout line for scripts, and a non-zero exit
 * code (2 a bad command line, with the help first; 1 a bad data file, weight file or model). */
import { type Command, CommanderError } from "npm:commander@^15";
import { DataError } from "../data/errors.ts";
import { WeightFileError } from "../io/errors.ts";

/** A bad command line: printed after the command's help, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Whether `e` is a problem with what the user gave (a data file, a weight file, a model
 * folder, its config or tokenizer) rather than a bug: commands report it in one line, exit 1. */
export function isInputError(e: unknown): e is Error {
  return e instanceof DataError || e instanceof WeightFileError ||
    (e instanceof Error &&
      /text tower|config\.json|tokenizer|model folder|model\.safetensors|pytorch_model\.bin/
        .test(e.message));
}

/** Ends the process with `code` after saying `msg` both ways. */
export function failTask(task: string, code: number, msg: string): never {
  console.error(`${task}: ${msg}`);
  console.log(JSON.stringify({ error: msg }));
  Deno.exit(code);
}

/** Parses `argv` with `prog` and returns its options: `--help` exits 0, a usage error prints
 * the help and fails with code 2. */
export function parseOrExit(
  task: string,
  prog: Command,
  argv: readonly string[],
): Record<string, unknown> {
  // commander's own `error: ...` line would come before the help; failTask says it once, after.
  const quiet = (c: Command) => {
    c.configureOutput({ writeErr: () => {} });
    c.commands.forEach(quiet);
  };
  quiet(prog);
  try {
    prog.parse([...argv], { from: "user" });
    return prog.opts();
  } catch (e) {
    if (e instanceof CommanderError) {
      // `--help` asked for (exit code 0), not the help shown for a missing subcommand.
      const asked = e.code === "commander.helpDisplayed" || e.code === "commander.help";
      if (asked && e.exitCode === 0) Deno.exit(0);
      console.error(prog.helpInformation());
      failTask(task, 2, e.message);
    }
    throw e;
  }
}

/** Runs a command's body: a {@link UsageError} prints `help()` and fails with code 2, an input
 * error ({@link isInputError}) fails with code 1, anything else (a bug) is thrown. */
export async function runTask<T>(
  task: string,
  help: () => string,
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(help());
      failTask(task, 2, e.message);
    }
    if (isInputError(e)) failTask(task, 1, e.message);
    throw e;
  }
}

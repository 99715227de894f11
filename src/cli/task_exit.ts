/** How the `deno task` commands end on bad input: `<task>: <message>` on stderr for people,
 * `{"error": <message>}` as the last stdout line for scripts, and a non-zero exit code. */
import { type Command, CommanderError } from "npm:commander@^15";

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
  try {
    prog.parse([...argv], { from: "user" });
    return prog.opts();
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") Deno.exit(0);
      console.error(prog.helpInformation());
      failTask(task, 2, e.message);
    }
    throw e;
  }
}

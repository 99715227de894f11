/** How every `deno task` command ends on an error. A known error (bad input: a data file, a weight
 * file, the config, a file or folder the system refuses, libtorch) is said in one line,
 * `<task>: error: <message>`, maybe followed by `hint: <what to do next>`, on stderr, with
 * `{"error": <message>}` as the last stdout line for scripts; exit status 2 for a bad command
 * line or config (after the help, for a bad command line), 1 otherwise. A plain `Error` (what
 * the program throws on purpose, with a message for the user) is said the same way. Any other
 * type (a TypeError, a RangeError ...) is a bug: the same line, then its stack trace. `--debug` (anywhere on the command line) or
 * `DSVA_DEBUG=1` adds the stack trace to every error. */
import { type Command, CommanderError } from "npm:commander@^15";
import { TorchError } from "../../ffi/errors.ts";
import { ConfigError } from "../config/errors.ts";
import { DataError } from "../data/errors.ts";
import { EvalInputError } from "../eval/errors.ts";
import { WeightFileError } from "../io/errors.ts";

/** A bad command line: printed after the command's help, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** An error a command raises with its own exit status, hint and summary fields. */
export class TaskError extends Error {
  override name = "TaskError";
  /** The exit status (default 1). */
  readonly code: number;
  /** What to do next, when there is something to say. */
  readonly hint?: string;
  /** Fields added to the `{"error": ...}` line (a run folder, a step). */
  readonly fields?: Record<string, unknown>;
  constructor(
    message: string,
    opts: { code?: number; hint?: string; fields?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code ?? 1;
    this.hint = opts.hint;
    this.fields = opts.fields;
  }
}

/** Errors of modules this file does not import (they would load libtorch, which `data` and the
 * help of every command do without), known by name. */
const INPUT_ERROR_NAMES = new Set(["StateDictError", "NonFiniteLossError", "CLIPSourceError"]);
const USAGE_ERROR_NAMES = new Set(["ExperimentConfigError"]);

/** Whether `e` is one of Deno's I/O errors (`NotFound`, `PermissionDenied`, `IsADirectory` ...). */
function isIoError(e: unknown): e is Error {
  return Object.values(Deno.errors).some((C) => e instanceof C);
}

/** Whether `e` is a problem with what the user gave (a data file, a weight file, a model
 * folder, its config or tokenizer, a file the system refuses, libtorch's complaint) rather
 * than a bug: commands report it in one line, exit 1. */
export function isInputError(e: unknown): e is Error {
  return e instanceof DataError || e instanceof WeightFileError || e instanceof EvalInputError ||
    e instanceof TorchError || isIoError(e) ||
    (e instanceof Error && INPUT_ERROR_NAMES.has(e.name)) ||
    (e instanceof Error &&
      /text tower|config\.json|tokenizer|model folder|model\.safetensors|pytorch_model\.bin/
        .test(e.message));
}

/** Whether `e` is a bad command line or configuration (exit status 2). */
function isUsageError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof ConfigError || e instanceof CommanderError ||
    (e instanceof Error && USAGE_ERROR_NAMES.has(e.name));
}

/** The stack traces of every error is asked for (`--debug` or `DSVA_DEBUG=1`). */
let debugMode = false;

/** Whether stack traces were asked for. */
export function debugRequested(): boolean {
  return debugMode || /^(1|true|yes|on)$/i.test(Deno.env.get("DSVA_DEBUG") ?? "");
}

/** Ends the process with `code` after saying `msg` both ways (stderr for people, the last
 * stdout line for scripts). */
export function failTask(
  task: string,
  code: number,
  msg: string,
  opts: { hint?: string; fields?: Record<string, unknown> } = {},
): never {
  const line = msg.replace(/^error: /, "");
  console.error(`${task}: error: ${line}`);
  if (opts.hint) console.error(`hint: ${opts.hint}`);
  console.log(JSON.stringify({ ...opts.fields, error: line }));
  Deno.exit(code);
}

/** The dataset folder the command works on, once known (for the hint after a data error). */
let datasetFolder: string | null = null;

/** Notes the dataset folder the command works on: a data error's hint then names the
 * `deno task data inspect` command that checks all of it. */
export function noteDatasetFolder(dir: string | null | undefined): void {
  datasetFolder = dir ?? null;
}

/** What to do next after a known error, when there is something useful to say. */
function hintFor(task: string, e: Error): string | undefined {
  if (e instanceof TaskError) return e.hint;
  if (e instanceof DataError && task !== "data" && datasetFolder !== null) {
    let there = false;
    try {
      there = Deno.statSync(datasetFolder).isDirectory;
    } catch { /* no such folder: nothing to inspect */ }
    if (there) {
      return `\`deno task data inspect ${datasetFolder}\` lists every problem of the dataset at once`;
    }
  }
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotADirectory) {
    return "choose a folder you can write to (--runs-dir, --out) or change its permissions";
  }
  if (e instanceof TorchError) {
    return "libtorch refused an operation; `--debug` (or DSVA_DEBUG=1) shows where";
  }
  return undefined;
}

/** Prints the stack trace of `e` and of its causes. */
function printStack(e: unknown): void {
  let c: unknown = e;
  for (let depth = 0; c !== undefined && depth < 8; depth++) {
    console.error(depth === 0 ? "" : "caused by:", c instanceof Error ? c.stack : String(c));
    c = c instanceof Error ? c.cause : undefined;
  }
}

/** Ends the process after `e`: a usage error with the help (when `help` is given) and exit 2, a
 * known error in one line and exit 1, anything else (a bug) with its stack. */
export function exitOnError(task: string, e: unknown, help?: () => string): never {
  if (e instanceof CommanderError) {
    // `--help` asked for (exit code 0), not the help shown for a missing subcommand.
    const asked = e.code === "commander.helpDisplayed" || e.code === "commander.help";
    if (asked && e.exitCode === 0) Deno.exit(0);
  }
  if (debugRequested()) printStack(e);
  if (e instanceof TaskError) {
    failTask(task, e.code, e.message, { hint: e.hint, fields: e.fields });
  }
  if (isUsageError(e)) {
    if (help && (e instanceof UsageError || e instanceof CommanderError)) console.error(help());
    failTask(task, 2, e.message);
  }
  if (isInputError(e)) failTask(task, 1, e.message, { hint: hintFor(task, e) });
  const known = causes(e).find((c) => isInputError(c) || isUsageError(c));
  if (known) {
    // A wrapper of a known error (its message adds context): said as the known one.
    failTask(task, isUsageError(known) ? 2 : 1, (e as Error).message, {
      hint: hintFor(task, known),
    });
  }
  if (e instanceof Error && Object.getPrototypeOf(e) === Error.prototype) {
    // A plain Error is what the program throws on purpose with a message for the user.
    failTask(task, 1, e.message, {
      hint: debugRequested() ? undefined : "`--debug` (or DSVA_DEBUG=1) shows where it came from",
    });
  }
  // A bug (a TypeError, RangeError ...): the one line, then where it happened.
  const name = e instanceof Error ? e.name : typeof e;
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`${task}: error: ${name}: ${msg}`);
  if (!debugRequested()) printStack(e);
  console.error("hint: this is a bug in the program, not a problem with your input");
  console.log(JSON.stringify({ error: `${name}: ${msg}` }));
  Deno.exit(1);
}

function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c = e instanceof Error ? e.cause : undefined; c !== undefined && out.length < 8;) {
    out.push(c);
    c = c instanceof Error ? c.cause : undefined;
  }
  return out;
}

/** Makes commander quiet (its own `error: ...` line would come before the help; the error
 * exit says it once, after). */
export function quietCommander(prog: Command): Command {
  prog.configureOutput({ writeErr: () => {} });
  prog.commands.forEach(quietCommander);
  return prog;
}

/** Parses `argv` with `prog` and returns its options: `--help` exits 0, a usage error prints
 * the help (of the subcommand named first, if any) and fails with code 2. */
export function parseOrExit(
  task: string,
  prog: Command,
  argv: readonly string[],
): Record<string, unknown> {
  quietCommander(prog);
  try {
    prog.parse([...argv], { from: "user" });
    return prog.opts();
  } catch (e) {
    const sub = prog.commands.find((c) => c.name() === argv[0]);
    exitOnError(task, e, () => (sub ?? prog).helpInformation());
  }
}

/** Runs a command's body with the one error exit: `--debug` is taken out of `argv` (it asks
 * for stack traces), and whatever the body throws, or leaves unhandled in a callback or a
 * promise nobody awaits, ends the process through {@link exitOnError}. */
export async function runCommand(
  task: string,
  argv: readonly string[],
  body: (argv: readonly string[]) => Promise<void>,
  help?: () => string,
): Promise<void> {
  const end = argv.indexOf("--");
  const head = end < 0 ? argv : argv.slice(0, end);
  if (head.includes("--debug")) debugMode = true;
  const rest = [...head.filter((a) => a !== "--debug"), ...(end < 0 ? [] : argv.slice(end))];
  const onRejection = (ev: PromiseRejectionEvent) => {
    ev.preventDefault();
    exitOnError(task, ev.reason, help);
  };
  const onError = (ev: ErrorEvent) => {
    ev.preventDefault();
    exitOnError(task, ev.error ?? new Error(ev.message), help);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  try {
    await body(rest);
  } catch (e) {
    exitOnError(task, e, help);
  }
}

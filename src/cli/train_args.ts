/** `deno task train` command-line flags (commander, built from the config flag table), turned
 * into a validated partial config. */
import { Command } from "npm:commander@^15";
import { CONFIG_FLAGS, LAUNCH_FLAGS, type LaunchFlags } from "../config/flags.ts";
import {
  ConfigError,
  parsePartialConfig,
  type PartialConfig,
  resolvePathFields,
} from "../config/index.ts";
import { addConfigFlags, flagSource, readConfigFlags, setPath } from "./config_flags.ts";
import { quietCommander } from "./task_exit.ts";
import { callerDir, userPath } from "./paths.ts";

/** What the command line asks for. */
export interface TrainArgs {
  /** The config file, if any. */
  config: string | null;
  /** A run folder to resume. */
  resume: string | null;
  /** Print the resolved config and exit. */
  printConfig: boolean;
  /** The fields the flags set (validated). */
  partial: PartialConfig;
  /** The source of a field the flags set (`flag --epochs`, `flag --set loss.weights.ce`). */
  source: (path: string) => string;
  /** The multi-process launch flags (`--nproc-per-node`, ...), or null when none is given. */
  launch: LaunchFlags | null;
}

/** The commander program (also used for `--help`). */
export function trainProgram(): Command {
  const p = new Command("deno task train")
    .description(
      "Train DSVA and evaluate it (no arguments: the built-in synthetic CPU run). Flags override " +
        "the config file; the last output line is a JSON summary.",
    )
    .option(
      "--config <file>",
      "JSON config file (fields of the resolved config, any subset; its paths are relative to " +
        "its own folder)",
      userPath,
    )
    .option("--resume <runDir>", "continue an interrupted run from its last checkpoint", userPath)
    .option("--print-config", "print the resolved config and exit")
    .option(
      "--set <path=value>",
      "set any config field, e.g. --set loss.weights.mseVam=0.5 (value parsed as JSON)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .allowExcessArguments(false)
    .exitOverride();
  addConfigFlags(p, CONFIG_FLAGS);
  for (const f of LAUNCH_FLAGS) p.option(f.flag, f.help);
  return p;
}

/** Parses the train command line; paths come back absolute (see `paths.ts`). Throws
 * {@link ConfigError} for bad values (naming the flag), commander's error for unknown flags. */
export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const prog = quietCommander(trainProgram());
  prog.parse([...argv], { from: "user" });
  const o = prog.opts() as Record<string, unknown>;
  const { fields, sources } = readConfigFlags(prog, CONFIG_FLAGS);
  for (const s of (o.set as string[]) ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--set ${s}: expected path=value`);
    const path = s.slice(0, eq), raw = s.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    setPath(fields, path, value);
    sources.set(path, `--set ${path}`);
  }
  const source = flagSource(sources);
  const launch = readLaunchFlags(o);
  // Paths on the command line are the caller's: relative to where the user typed the command.
  const partial = parsePartialConfig(resolvePathFields(fields, callerDir()), source);
  return {
    source: (path) => `flag ${source(path)}`,
    config: (o.config as string | undefined) ?? null,
    resume: (o.resume as string | undefined) ?? null,
    printConfig: o.printConfig === true,
    partial,
    launch,
  };
}

/** The launch flags given, as numbers where they are counts (null: none given). */
export function readLaunchFlags(o: Record<string, unknown>): LaunchFlags | null {
  const given = LAUNCH_FLAGS.filter((f) => o[f.key] !== undefined);
  if (given.length === 0) return null;
  const num = (key: keyof LaunchFlags, flag: string): number | null => {
    if (o[key] === undefined) return null;
    const n = Number(o[key]);
    if (!Number.isInteger(n) || n < 0) {
      throw new ConfigError(`${flag} ${o[key]}: expected a whole number`);
    }
    return n;
  };
  return {
    nprocPerNode: num("nprocPerNode", "--nproc-per-node"),
    nnodes: num("nnodes", "--nnodes"),
    nodeRank: num("nodeRank", "--node-rank"),
    masterAddr: (o.masterAddr as string | undefined) ?? null,
    masterPort: num("masterPort", "--master-port"),
  };
}

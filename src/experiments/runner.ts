/**
 * Running a grid: each cell is `deno task train --config <cell>/train_config.json` in a child
 * process (a normal run folder under `<grid>/cells/<cell id>/`), one after the other, with
 * progress over the whole grid.
 *
 * Resumable: a cell whose run folder has its final `eval.json` (and `report.html`) is skipped; a
 * cell stopped mid-run (its `checkpoints/last.safetensors` exists) continues with
 * `deno task train --resume`, which ends with the same weights as an uninterrupted run; a cell
 * folder without a checkpoint starts over. A stop request ({@link GridStop}: the command's
 * SIGINT / SIGTERM) is passed on to the running cell (started in its own session, so a terminal's
 * Ctrl-C reaches it once, through the grid), which saves a checkpoint; the grid then stops.
 * @module
 */
import { exists } from "../../ffi/fs.ts";
import { formatDuration } from "../run/progress.ts";
import type { Cell, GridPlan } from "./grid.ts";
import { resolvePathFields } from "../config/paths.ts";

/** The evaluation summary a finished cell wrote (`eval.json`, the fields the report uses). */
export interface CellEval {
  zsl: number;
  chance: number;
  gzsl: { S: number; U: number; H: number; gamma: number; gammaRule: string };
  ausuc: number;
  epoch: number;
  selection: string;
  branches?: Record<string, { zsl: number; S: number; U: number; H: number; ausuc: number }>;
}

/** A finished cell. */
export interface CellResult {
  cell: Cell;
  /** Its run folder. */
  runDir: string;
  eval: CellEval;
  /** Training seconds (all processes of the run) and the wall seconds of the last process, when
   * known. */
  trainSeconds: number | null;
  /** `ran` in this invocation, or `skipped` (finished before). */
  status: "ran" | "skipped";
}

/** How the grid run ended. */
export interface GridOutcome {
  status: "finished" | "interrupted";
  signal?: string;
  results: CellResult[];
  failed: { cell: Cell; code: number; log: string; message: string }[];
  ran: number;
  skipped: number;
  seconds: number;
}

/** A stop request raised by the command (its SIGINT / SIGTERM token, `stopOnSignals()` in
 * `src/cli/stop.ts`): polled between cells, and every signal is passed on to the running cell. */
export interface GridStop {
  /** The signal that asked to stop, or null. */
  reason(): string | null;
  /** Calls `f` at every signal from now on; returns what stops calling it. */
  onSignal(f: (sig: Deno.Signal) => void): () => void;
}

/** Options of {@link runGrid}. */
export interface RunGridOptions {
  /** Lines for the user. */
  log?: (line: string) => void;
  /** Extra environment of the training processes. */
  env?: Record<string, string>;
  /** The stop request to obey (default: none, the grid runs to its end). */
  stop?: GridStop;
}

const TRAIN_SCRIPT = new URL("../../scripts/train.ts", import.meta.url).pathname;
const RUN_DIR = /^\d{8}-\d{6}-/;

/** The folder of cell `id`. */
export function cellDir(gridDir: string, id: string): string {
  return `${gridDir}/cells/${id}`;
}

/** A cell's run folder, if it has one (the finished one first, else the newest). */
export function findRunDir(dir: string): string | null {
  if (!exists(dir)) return null;
  const runs = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory && RUN_DIR.test(e.name))
    .map((e) => `${dir}/${e.name}`).sort();
  return runs.find(isFinished) ?? runs.at(-1) ?? null;
}

/** Whether a run folder holds a finished run (its final evaluation and report). */
export function isFinished(runDir: string): boolean {
  return exists(`${runDir}/eval.json`) && exists(`${runDir}/report.html`);
}

/** Reads a finished cell's results (or null when it has not finished). */
export function readCellResult(gridDir: string, cell: Cell): Omit<CellResult, "status"> | null {
  const runDir = findRunDir(cellDir(gridDir, cell.id));
  if (!runDir || !isFinished(runDir)) return null;
  const ev = JSON.parse(Deno.readTextFileSync(`${runDir}/eval.json`)) as CellEval;
  let trainSeconds: number | null = null;
  try {
    const r = JSON.parse(Deno.readTextFileSync(`${cellDir(gridDir, cell.id)}/result.json`));
    trainSeconds = typeof r.trainSeconds === "number" ? r.trainSeconds : null;
  } catch { /* finished by an older process: no timing */ }
  return { cell, runDir, eval: ev, trainSeconds };
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/** The training config a cell folder was started with, when it has one. */
function claimedTrain(gridDir: string, cell: Cell): string | null {
  try {
    const old = JSON.parse(Deno.readTextFileSync(`${cellDir(gridDir, cell.id)}/cell.json`));
    return JSON.stringify(old.train);
  } catch {
    return null;
  }
}

/** Throws when a cell folder of the grid was started with another training config than the
 * plan's (the experiment config changed under the same cell id): its results would be mixed into
 * the report silently. */
export function checkCellSpecs(plan: GridPlan): void {
  const changed = plan.cells.filter((c) => {
    const old = claimedTrain(plan.dir, c);
    return old !== null && old !== JSON.stringify(c.train);
  });
  if (changed.length > 0) {
    throw new Error(
      `${changed.length} cell(s) of ${plan.dir} were started with another training config ` +
        `(e.g. ${changed[0].id}); the experiment config changed since. Use another "out" ` +
        `folder (--out), or --fresh to redo the grid`,
    );
  }
}

/** Records the cell's spec in its folder. */
async function claimCellDir(gridDir: string, cell: Cell): Promise<void> {
  const dir = cellDir(gridDir, cell.id);
  await Deno.mkdir(dir, { recursive: true });
  if (claimedTrain(gridDir, cell) !== null) return;
  await writeJson(`${dir}/cell.json`, { id: cell.id, axes: cell.axes, train: cell.train });
}

/** Whether `setsid` can start the cells in their own session. */
function setsidPath(): string | null {
  for (const p of ["/usr/bin/setsid", "/bin/setsid"]) if (exists(p)) return p;
  return null;
}

/** Takes `<grid>/.lock` (refusing when a live process holds it); returns its release. */
async function lock(gridDir: string): Promise<() => void> {
  const path = `${gridDir}/.lock`;
  if (exists(path)) {
    const pid = Number((await Deno.readTextFile(path)).trim());
    if (pid && pid !== Deno.pid && exists(`/proc/${pid}`)) {
      throw new Error(`the grid ${gridDir} is being run by process ${pid} (${path})`);
    }
  }
  await Deno.writeTextFile(path, `${Deno.pid}\n`);
  return () => {
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
  };
}

/** Runs every unfinished cell of the plan (see the module note). */
export async function runGrid(plan: GridPlan, opts: RunGridOptions = {}): Promise<GridOutcome> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const t0 = performance.now();
  await Deno.mkdir(`${plan.dir}/cells`, { recursive: true });
  checkCellSpecs(plan);
  const release = await lock(plan.dir);
  const cells = plan.cells;
  const totalSteps = cells.reduce((a, c) => a + c.steps, 0);
  const results: CellResult[] = [];
  const failed: GridOutcome["failed"] = [];
  let stepsDone = 0, ran = 0, skipped = 0;
  let ranSteps = 0, ranSeconds = 0;

  // Why the grid stops: the command's request, or a cell that was stopped by a signal.
  let stop: string | null = null;
  const stopReason = () => stop ?? opts.stop?.reason() ?? null;
  let child: Deno.ChildProcess | null = null;
  const unsubscribe = opts.stop?.onSignal((sig) => {
    try {
      child?.kill(sig);
    } catch { /* exited */ }
  });
  const setsid = setsidPath();

  const progressLine = (extra: string) => {
    const frac = totalSteps > 0 ? stepsDone / totalSteps : 0;
    const rate = ranSteps > 0 ? ranSeconds / ranSteps : NaN;
    const eta = Number.isFinite(rate) ? formatDuration(rate * (totalSteps - stepsDone)) : "--:--";
    return `[grid ${
      results.length + failed.length
    }/${cells.length} cells · ${stepsDone}/${totalSteps} steps ` +
      `(${(frac * 100).toFixed(0)}%) · ${
        formatDuration((performance.now() - t0) / 1000)
      } · ETA ${eta}] ${extra}`;
  };

  try {
    for (const [i, cell] of cells.entries()) {
      if (stopReason()) break;
      const done = readCellResult(plan.dir, cell);
      if (done) {
        results.push({ ...done, status: "skipped" });
        stepsDone += cell.steps;
        skipped++;
        log(progressLine(`${cell.id}: finished before, skipped`));
        continue;
      }
      await claimCellDir(plan.dir, cell);
      const dir = cellDir(plan.dir, cell.id);
      let runDir = findRunDir(dir);
      let args: string[];
      if (
        runDir && exists(`${runDir}/checkpoints/last.safetensors`) &&
        exists(`${runDir}/config.json`)
      ) {
        args = ["--resume", runDir];
        log(progressLine(`${cell.id} (${i + 1}/${cells.length}): resuming ${runDir}`));
      } else {
        if (runDir) await Deno.remove(runDir, { recursive: true }); // no checkpoint: start over
        runDir = null;
        const cfgPath = `${dir}/train_config.json`;
        // A config file's paths are relative to its own folder: the grid's are the caller's.
        const train = { ...cell.train, name: cell.id, runsDir: dir };
        await writeJson(cfgPath, resolvePathFields(train, Deno.cwd()));
        args = ["--config", cfgPath];
        log(progressLine(`${cell.id} (${i + 1}/${cells.length}): training`));
      }
      const logPath = `${dir}/train.log`;
      const logFile = await Deno.open(logPath, { append: true, create: true, write: true });
      const cmd = [Deno.execPath(), "run", "-A", TRAIN_SCRIPT, ...args];
      const cellT0 = performance.now();
      child = new Deno.Command(setsid ?? cmd[0], {
        args: setsid ? cmd : cmd.slice(1),
        stdout: "piped",
        stderr: "piped",
        // The child resolves relative paths where this process does, not where the user typed.
        env: { NO_PROGRESS: "1", INIT_CWD: Deno.cwd(), ...(opts.env ?? {}) },
      }).spawn();
      const asked = stopReason();
      if (asked) child.kill(asked as Deno.Signal);
      const batches = cell.batchesPerEpoch;
      const stepsBefore = stepsDone;
      let lastLine = "";
      const pump = async (stream: ReadableStream<Uint8Array>, isOut: boolean) => {
        const dec = new TextDecoder();
        let buf = "";
        for await (const chunk of stream) {
          await logFile.write(chunk);
          if (!isOut) continue;
          buf += dec.decode(chunk, { stream: true });
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim()) lastLine = line;
            const m = /^run folder: (.+)$/.exec(line);
            if (m) runDir = m[1].trim();
            const e = /^epoch (\d+)\/(\d+) done: (.*)$/.exec(line);
            if (e) {
              const epochSteps = batches > 0 ? Number(e[1]) * batches : 0;
              stepsDone = stepsBefore + Math.min(epochSteps, cell.steps);
              log(progressLine(`${cell.id}: epoch ${e[1]}/${e[2]}: ${e[3]}`));
            }
          }
        }
        if (isOut && buf.trim()) lastLine = buf;
      };
      const [status] = await Promise.all([
        child.status,
        pump(child.stdout, true),
        pump(child.stderr, false),
      ]);
      child = null;
      logFile.close();
      const seconds = (performance.now() - cellT0) / 1000;
      let summary: Record<string, unknown> = {};
      try {
        summary = JSON.parse(lastLine);
      } catch { /* not JSON */ }
      if (status.code === 0 && runDir && isFinished(runDir)) {
        const ev = JSON.parse(await Deno.readTextFile(`${runDir}/eval.json`)) as CellEval;
        const trainSeconds = typeof summary.trainSeconds === "number" ? summary.trainSeconds : null;
        await writeJson(`${dir}/result.json`, {
          id: cell.id,
          runDir,
          trainSeconds,
          wallSeconds: Math.round(seconds * 10) / 10,
          zsl: ev.zsl,
          gzsl: ev.gzsl,
          ausuc: ev.ausuc,
        });
        results.push({ cell, runDir, eval: ev, trainSeconds, status: "ran" });
        ran++;
        stepsDone = stepsBefore + cell.steps;
        ranSteps += cell.steps;
        ranSeconds += seconds;
        log(progressLine(
          `${cell.id}: done in ${seconds.toFixed(0)} s · ZSL ${(ev.zsl * 100).toFixed(1)}% · ` +
            `H ${(ev.gzsl.H * 100).toFixed(1)}`,
        ));
      } else if (status.code === 130 || status.code === 143 || stopReason()) {
        stop = stopReason() ?? (status.code === 143 ? "SIGTERM" : "SIGINT");
        stepsDone = stepsBefore;
        log(progressLine(`${cell.id}: stopped (${stop}); rerun the grid to resume it`));
        break;
      } else {
        const message = typeof summary.error === "string"
          ? summary.error
          : `exit code ${status.code}`;
        failed.push({ cell, code: status.code, log: logPath, message });
        stepsDone = stepsBefore + cell.steps;
        log(progressLine(`${cell.id}: FAILED (${message}); see ${logPath}`));
      }
    }
  } finally {
    unsubscribe?.();
    release();
  }
  // Results in plan order (a rerun reports the same cells in the same order).
  const order = new Map(cells.map((c, i) => [c.id, i]));
  results.sort((a, b) => order.get(a.cell.id)! - order.get(b.cell.id)!);
  const stopped = stopReason();
  return {
    status: stopped ? "interrupted" : "finished",
    ...(stopped ? { signal: stopped } : {}),
    results,
    failed,
    ran,
    skipped,
    seconds: (performance.now() - t0) / 1000,
  };
}

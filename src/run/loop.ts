/** The epoch/step loop that DSVA training and CLIP fine-tuning share: epochs of batches from a
 * resumable position, progress after every step, a stop request polled between steps (and a
 * checkpoint before stopping), checkpoints at epoch ends (and every N steps if asked), a step
 * limit, and resuming from the position a checkpoint recorded.
 *
 * What a step does, what an epoch's end evaluates and what a checkpoint holds is the caller's
 * ({@link EpochTask}); when to do each is this loop's. Library code installs no signal
 * handlers: the command turns SIGINT/SIGTERM into the `stopRequested` it passes
 * (`stopOnSignals()` in `src/cli/stop.ts`).
 * @module
 */
import type { LoggedRecord, MetricsLog } from "./metrics_log.ts";
import type { ProgressState } from "./progress.ts";

/** Where a run stands: what a checkpoint records to continue it. */
export interface RunPosition {
  /** Optimizer steps done. */
  step: number;
  /** Epochs completed. */
  epochsDone: number;
  /** The next batch to train: its epoch and its number within the epoch. */
  next: { epoch: number; batch: number };
}

/** The position of a new run: nothing done, batch 0 of epoch 0 next. */
export function startPosition(): RunPosition {
  return { step: 0, epochsDone: 0, next: { epoch: 0, batch: 0 } };
}

/** The position a checkpoint recorded, ready to continue from: a next batch past its epoch's
 * end is the next epoch's first, and the run's metrics log (when given) is cut back to the
 * checkpoint so that each step is logged once. */
export function resumePosition(
  saved: RunPosition,
  batchesPerEpoch: number,
  log?: MetricsLog<LoggedRecord> | null,
): RunPosition {
  const { step, epochsDone } = saved;
  let next = { ...saved.next };
  const whole = (x: number) => Number.isInteger(x) && x >= 0;
  if (![step, epochsDone, next.epoch, next.batch].every(whole)) {
    throw new RangeError(`bad run position in the checkpoint: ${JSON.stringify(saved)}`);
  }
  if (next.batch >= batchesPerEpoch) next = { epoch: next.epoch + 1, batch: 0 };
  log?.truncateTo(step, epochsDone);
  return { step, epochsDone, next };
}

/** What one step reports to the loop. */
export interface StepReport {
  /** Images the step trained on. */
  images: number;
  /** The (smoothed) training loss for the progress bar. */
  loss: number;
}

/** A training run as the loop drives it. */
export interface EpochTask<B extends { readonly batch: number }> {
  /** Epochs in the run. */
  readonly epochs: number;
  readonly batchesPerEpoch: number;
  /** Stop after this many steps in all (0: no limit); the epoch it ends in counts as done. */
  readonly maxSteps: number;
  /** Also checkpoint every this many steps (0 or absent: no). */
  readonly checkpointEvery?: number;
  /** Checkpoint at the end of every epoch (default true); false: only after the last one, at
   * `maxSteps` and when stopping. */
  readonly checkpointEachEpoch?: boolean;
  /** The run's position, which the loop advances (the checkpoint saves it). */
  readonly position: RunPosition;
  /** Batches `from`, `from + 1`, ... of `epoch`, in order (`batch` = the number in the epoch). */
  batches(epoch: number, from: number): AsyncIterable<B>;
  /** Before the first step of `epoch` in this process (`from` > 0: resumed mid-epoch). */
  beginEpoch?(epoch: number, from: number): void | Promise<void>;
  /** One optimizer step on `batch` (`position.step` steps are done before it); `since` is
   * `performance.now()` at the end of the previous step (or at the epoch's start). */
  step(batch: B, epoch: number, since: number): StepReport | Promise<StepReport>;
  /** After the epoch's last step, before its checkpoint (evaluation, model selection); `last`:
   * the run ends with this epoch. */
  endEpoch?(epoch: number, last: boolean): void | Promise<void>;
  /** Saves what resuming needs and returns the file written. `reason`: `epoch`, `max-steps`,
   * `every` or `interrupt:<why>`. */
  checkpoint(reason: string): Promise<string>;
}

/** What the caller of the loop sees and decides. */
export interface LoopHooks {
  /** After every step: the progress bar's figures. */
  onStep?(s: ProgressState): void;
  /** A line for the user (stops, the step limit). */
  log(line: string): void;
  /** Polled between steps: a reason to stop now (e.g. `SIGINT`), or null. */
  stopRequested(): string | null;
}

/** How the loop ended: every epoch (or `maxSteps`) done, or stopped on request with a
 * checkpoint to resume from. */
export interface LoopOutcome {
  status: "finished" | "interrupted";
  /** What `stopRequested` said, when interrupted. */
  reason?: string;
}

/** Runs `task` from its position until its last epoch ends, `maxSteps` is reached or
 * `hooks.stopRequested()` says to stop (checkpoint saved first). */
export async function runEpochs<B extends { readonly batch: number }>(
  task: EpochTask<B>,
  hooks: LoopHooks,
): Promise<LoopOutcome> {
  const pos = task.position;
  const total = task.epochs * task.batchesPerEpoch;
  const goal = task.maxSteps > 0 ? Math.min(task.maxSteps, total) : total;
  const every = task.checkpointEvery ?? 0;
  const t0 = performance.now();
  let steps = 0, ips = 0;
  while (pos.next.epoch < task.epochs) {
    const epoch = pos.next.epoch;
    await task.beginEpoch?.(epoch, pos.next.batch);
    let since = performance.now();
    let stopped: string | null = null;
    let hitMax = false;
    for await (const b of task.batches(epoch, pos.next.batch)) {
      const r = await task.step(b, epoch, since);
      pos.step++;
      pos.next = { epoch, batch: b.batch + 1 };
      steps++;
      const now = performance.now();
      const stepIps = r.images / Math.max(1e-6, (now - since) / 1000);
      since = now;
      ips = ips === 0 ? stepIps : 0.9 * ips + 0.1 * stepIps;
      hooks.onStep?.({
        step: pos.step,
        totalSteps: goal,
        epoch,
        epochs: task.epochs,
        loss: r.loss,
        imagesPerSecond: ips,
        etaSeconds: ((now - t0) / 1000 / steps) * Math.max(0, goal - pos.step),
      });
      if (task.maxSteps > 0 && pos.step >= task.maxSteps) {
        hitMax = true;
        break;
      }
      if (every > 0 && pos.step % every === 0 && pos.step < goal) await task.checkpoint("every");
      // Let signal handlers run: with batches prefetched, awaiting the loader alone may never
      // reach the event loop's timers and signals.
      await new Promise((r) => setTimeout(r, 0));
      stopped = hooks.stopRequested();
      if (stopped) break;
    }
    if (stopped && pos.next.batch < task.batchesPerEpoch) {
      const path = await task.checkpoint(`interrupt:${stopped}`);
      hooks.log(`${stopped}: stopped after step ${pos.step}; checkpoint ${path}`);
      return { status: "interrupted", reason: stopped };
    }
    // The epoch is over (or cut short by maxSteps).
    pos.next = { epoch: epoch + 1, batch: 0 };
    pos.epochsDone = epoch + 1;
    const last = epoch + 1 >= task.epochs || hitMax;
    await task.endEpoch?.(epoch, last);
    stopped = stopped ?? hooks.stopRequested();
    if (task.checkpointEachEpoch !== false || last || stopped) {
      await task.checkpoint(hitMax ? "max-steps" : "epoch");
    }
    if (hitMax) {
      hooks.log(`maxSteps ${task.maxSteps} reached after epoch ${epoch + 1}`);
      break;
    }
    stopped = stopped ?? hooks.stopRequested();
    if (stopped && !last) {
      hooks.log(`${stopped}: stopped after epoch ${epoch + 1}; checkpoint saved`);
      return { status: "interrupted", reason: stopped };
    }
  }
  return { status: "finished" };
}

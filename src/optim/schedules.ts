/** Learning-rate schedules: each sets every group's `lr` from its base lr and
 * a step count, as torch.optim.lr_scheduler's closed forms. Call `step()`
 * after each `optimizer.step()`; the constructor applies step 0. */

/** What a schedule needs of an optimizer: its groups' lr. */
export interface ScheduledOptimizer {
  /** Groups whose `lr` the schedule sets; `initialLr` is the base it scales. */
  paramGroups: { lr: number; initialLr?: number }[];
}

/** Saved position of a schedule. */
export interface ScheduleState {
  /** Steps taken (PyTorch's `last_epoch`). */
  lastStep: number;
}

/** Base class: `factor(step, group)` times each group's base lr. */
export abstract class LRSchedule {
  /** The scheduled optimizer. */
  readonly optimizer: ScheduledOptimizer;
  /** Each group's base lr (its `initialLr`, set from its lr when first scheduled). */
  readonly baseLrs: number[];
  /** Steps taken; the lr in effect is that of this step. */
  lastStep = 0;

  /** Records each group's base lr (`initialLr`, set from `lr` if absent). */
  constructor(optimizer: ScheduledOptimizer) {
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
  }

  /** The multiplier of group `group`'s base lr at `step`. */
  abstract factor(step: number, group: number): number;

  /** The lr of each group at `step`. */
  lrsAt(step: number): number[] {
    return this.baseLrs.map((b, i) => b * this.factor(step, i));
  }

  /** Sets the groups' lr for `lastStep` (subclasses call it from their constructor). */
  protected apply(): void {
    const lrs = this.lrsAt(this.lastStep);
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]));
  }

  /** Advances one step and sets the new lr. */
  step(): void {
    this.lastStep++;
    this.apply();
  }

  /** The lr of each group now. */
  lastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The position, for a checkpoint. */
  stateDict(): ScheduleState {
    return { lastStep: this.lastStep };
  }

  /** Restores the position and sets the lr for it. */
  loadStateDict(s: ScheduleState): void {
    if (!Number.isInteger(s.lastStep) || s.lastStep < 0) {
      throw new RangeError(
        `schedule state: lastStep must be a non-negative integer, got ${s.lastStep}`,
      );
    }
    this.lastStep = s.lastStep;
    this.apply();
  }
}

/** lr = base · fn(step), one function for all groups or one per group
 * (torch.optim.lr_scheduler.LambdaLR). */
export class LambdaLR extends LRSchedule {
  readonly #fns: ((step: number) => number)[];

  /** Schedules `optimizer` by `fn` (one per group, or one for all). */
  constructor(
    optimizer: ScheduledOptimizer,
    fn: ((step: number) => number) | ((step: number) => number)[],
  ) {
    super(optimizer);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(fn) && fn.length !== n) {
      throw new RangeError(`LambdaLR: got ${fn.length} functions for ${n} parameter groups`);
    }
    this.#fns = Array.isArray(fn) ? fn : Array(n).fill(fn);
    this.apply();
  }

  /** `fn(step)` of the group. */
  factor(step: number, group: number): number {
    return this.#fns[group](step);
  }
}

/** lr = base · gamma^⌊step / stepSize⌋ (StepLR). */
export class StepLR extends LRSchedule {
  /** Steps between decays. */
  readonly stepSize: number;
  /** Decay per `stepSize` steps. */
  readonly gamma: number;

  /** Decays by `gamma` (0.1) every `stepSize` steps. */
  constructor(optimizer: ScheduledOptimizer, opts: { stepSize: number; gamma?: number }) {
    super(optimizer);
    if (!(Number.isInteger(opts.stepSize) && opts.stepSize > 0)) {
      throw new RangeError(`StepLR: stepSize must be a positive integer, got ${opts.stepSize}`);
    }
    this.stepSize = opts.stepSize;
    this.gamma = opts.gamma ?? 0.1;
    this.apply();
  }

  /** gamma^⌊step / stepSize⌋. */
  factor(step: number): number {
    return this.gamma ** Math.floor(step / this.stepSize);
  }
}

/** lr = base · gamma^step (ExponentialLR). */
export class ExponentialLR extends LRSchedule {
  /** Decay per step. */
  readonly gamma: number;

  /** Decays by `gamma` every step. */
  constructor(optimizer: ScheduledOptimizer, gamma: number) {
    super(optimizer);
    this.gamma = gamma;
    this.apply();
  }

  /** gamma^step. */
  factor(step: number): number {
    return this.gamma ** step;
  }
}

/** Options of `CosineWithWarmup`. */
export interface CosineWithWarmupOptions {
  /** Steps of linear warm-up from 0 to the base lr. */
  warmupSteps: number;
  /** Total steps; the cosine reaches its floor here and stays there. */
  totalSteps: number;
  /** The floor as a fraction of the base lr (0). */
  minLrRatio?: number;
}

/** The multiplier of `CosineWithWarmup` at `step`: step / warmup during the
 * warm-up, then min + (1 - min) · ½(1 + cos(π · progress)) with progress
 * (step - warmup) / (total - warmup), capped at 1. With min 0 this is Hugging
 * Face's `get_cosine_schedule_with_warmup`. */
export function cosineWithWarmupFactor(step: number, opts: CosineWithWarmupOptions): number {
  const { warmupSteps, totalSteps } = opts;
  const min = opts.minLrRatio ?? 0;
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return min + (1 - min) * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Linear warm-up, then cosine decay to `minLrRatio` · base (see `cosineWithWarmupFactor`). */
export class CosineWithWarmup extends LRSchedule {
  /** The schedule's shape. */
  readonly options: Readonly<CosineWithWarmupOptions>;

  /** Warm-up for `warmupSteps`, cosine until `totalSteps`. */
  constructor(optimizer: ScheduledOptimizer, opts: CosineWithWarmupOptions) {
    super(optimizer);
    if (!(opts.warmupSteps >= 0 && opts.totalSteps > 0 && opts.totalSteps >= opts.warmupSteps)) {
      throw new RangeError(
        `CosineWithWarmup: need 0 <= warmupSteps <= totalSteps and totalSteps > 0, got ${opts.warmupSteps} and ${opts.totalSteps}`,
      );
    }
    this.options = { ...opts };
    this.apply();
  }

  /** `cosineWithWarmupFactor(step, options)`. */
  factor(step: number): number {
    return cosineWithWarmupFactor(step, this.options);
  }
}

/**
 * The DSVA training loop: episodic batches, the recipe's phases (frozen parameters, parameter
 * groups, lr schedule, optimizer lifetime, loss weights, AC from its epoch), per-epoch evaluation
 * and model selection, checkpoints, and a stop between two steps that loses nothing.
 *
 * Resumable to the bit: the batch plan is a pure function of (seed, epoch, batch), each image's
 * augmentation of (seed, epoch, batch, slot), libtorch's generator is re-seeded from (seed, step)
 * before every step, and the checkpoint holds the weights, Adam's moments, the next batch and the
 * trainer's running state. A run stopped and resumed takes the same steps on the same data as
 * one that never stopped.
 *
 * Data-parallel (`dist` given, one Trainer per rank): every rank draws the same global episode
 * and trains on its slice inside `DistributedDataParallel` (exactness: `shard.ts`), so N ranks
 * take the steps of one process with the same config. The stop request is agreed between ranks
 * after every step; the epoch-end evaluation is sharded (each rank scores a share, all gather
 * the scores and select alike); rank 0 alone writes metrics and checkpoints.
 * @module
 */
import { EpisodicSampler } from "../data/episodic_sampler.ts";
import { ImageLoader, type LoadedBatch, type Sample } from "../data/loader.ts";
import { batchToTensor } from "../data/tensor.ts";
import type { DsvaLossConfig } from "../dsva/losses.ts";
import type { DSVA } from "../dsva/model.ts";
import {
  type DsvaRecipe,
  groupLearningRates,
  recipeLoss,
  type RecipePhase,
  recipePhase,
} from "../dsva/recipes.ts";
import type { ProcessGroup } from "../distributed/group.ts";
import { saveCheckpoint } from "../io/checkpoint.ts";
import { DistributedDataParallel } from "../nn/ddp.ts";
import { Adam } from "../optim/adam.ts";
import {
  type LoopHooks,
  resumePosition,
  runEpochs,
  type RunPosition,
  startPosition,
} from "../run/loop.ts";
import type { Device } from "../tensor/device.ts";
import { fromBuffer, noGrad, scope, type Tensor } from "../tensor/index.ts";
import type { TrainData } from "./data.ts";
import { branchResult, chooseGamma, heldoutSeenAccuracy } from "./metrics.ts";
import type { DsvaMetricsLog, EpochRecord } from "./records.ts";
import { acInTraining, runRecipe } from "./recipe.ts";
import {
  type BadImagePolicy,
  concatSets,
  normalizationOf,
  type ScoredSet,
  scoreSamples,
  trainingTransform,
} from "./scoring.ts";

/** The score branches, in the order a rank's all-gathered rows hold them. */
const BRANCHES = ["vam", "global", "fused"] as const;
import {
  type BestState,
  CHECKPOINTS,
  type ModelCheckpoint,
  RNG_NOTE,
  type TestBests,
  type TrainCheckpoint,
  type TrainerState,
} from "./state.ts";
import { agreedStop, DsvaWithLoss, rankSlice } from "./shard.ts";
import { dsvaTrainStep } from "./step.ts";
import type { TrainConfig } from "../config/types.ts";

/** What the trainer reports while it runs (progress after every step, lines for the user)
 * and the stop request it polls between steps: the shared run loop's hooks. */
export type TrainHooks = LoopHooks;

/** The data-parallel job a Trainer is one rank of. */
export interface TrainDistributed {
  /** The job's process group (Gloo on CPU, NCCL on CUDA). */
  group: ProcessGroup;
  /** DDP's gradient bucket size in MiB (default 25, as PyTorch). */
  bucketCapMb?: number;
}

/** How a run ended. */
export interface TrainOutcome {
  status: "finished" | "interrupted";
  /** The signal or reason, when interrupted. */
  reason?: string;
  step: number;
  epochsDone: number;
  best: BestState | null;
  /** The best test epochs by ZSL accuracy and by H (whichever selected). */
  testBest: TestBests;
  /** Seconds of training (all processes of this run). */
  seconds: number;
}

const sameGroups = (a: RecipePhase, b: RecipePhase) =>
  a.groups.length === b.groups.length &&
  a.groups.every((g, i) => g.sets.join() === b.groups[i].sets.join());

/** One training run over a model and its data, writing into `runDir`. */
export class Trainer {
  readonly recipe: DsvaRecipe;
  readonly totalSteps: number;
  /** The class-attribute matrix of all classes `[C, K]` and of the seen ones (in `data.seen`
   * order; training labels index it). */
  readonly classAttributes: Tensor;
  readonly seenAttributes: Tensor;
  #opt: Adam | null = null;
  #optPhase: RecipePhase | null = null;
  #optEpoch = -1;
  #pos: RunPosition = startPosition();
  #state: TrainerState = {
    best: null,
    testBest: { zsl: null, H: null },
    elapsed: 0,
    lossEma: NaN,
    epochLossSum: 0,
    epochSteps: 0,
  };
  #t0 = performance.now();
  #ddp: DistributedDataParallel<DsvaWithLoss> | null = null;
  #ddpParams: Tensor[] = [];
  /** Whether this process writes the run folder (one process, or rank 0). */
  readonly writes: boolean;

  constructor(
    readonly model: DSVA,
    readonly data: TrainData,
    readonly config: TrainConfig,
    readonly runDir: string,
    readonly metrics: DsvaMetricsLog,
    readonly dist: TrainDistributed | null = null,
  ) {
    this.writes = dist === null || dist.group.rank === 0;
    if (dist) rankSlice(config.ways * config.shots, dist.group.rank, dist.group.worldSize);
    this.recipe = runRecipe(config);
    this.totalSteps = config.epochs * config.batchesPerEpoch;
    const c = data.classes.length, k = data.numAttributes;
    const device = config.device as Device;
    this.classAttributes = fromBuffer(data.attributes, [c, k], { dtype: "float32", device });
    this.seenAttributes = scope(() =>
      this.classAttributes.indexSelect(
        0,
        fromBuffer(BigInt64Array.from(data.seen, BigInt), [data.seen.length], {
          dtype: "int64",
          device,
        }),
      )
    );
    if (config.ways > data.seen.length) {
      throw new RangeError(
        `ways: ${config.ways} classes per batch, but the split has ${data.seen.length} seen classes`,
      );
    }
  }

  /** Steps done so far. */
  get step(): number {
    return this.#pos.step;
  }

  /** Restores a checkpoint written by {@link Trainer.saveState} (and cuts the metrics log back
   * to it). */
  restore(ck: TrainCheckpoint): void {
    noGrad(() => this.model.loadStateDict(ck.model, { strict: true }));
    this.#pos = resumePosition(
      { step: ck.step, epochsDone: ck.epoch, next: { ...ck.sampler } },
      this.config.batchesPerEpoch,
      this.writes ? this.metrics : null,
    );
    this.#state = { ...ck.trainer };
    const epoch = this.#pos.next.epoch;
    if (ck.optimizer) {
      const carry = epoch < this.config.epochs &&
        (this.recipe.optimizer.lifetime === "run" || ck.optimizerEpoch === epoch);
      // A checkpoint that owes its epoch's evaluation is written again after it: with the
      // optimizer as that epoch left it, as the checkpoint of a run that never failed has it.
      const owed = !carry && ck.trainer.pendingEvaluation !== undefined;
      if (carry || owed) {
        this.#ensureOptimizer(carry ? epoch : ck.optimizerEpoch);
        this.#opt!.loadStateDict(ck.optimizer);
      }
    }
  }

  /** Writes the full training state to `checkpoints/last.safetensors`. */
  async saveState(reason: string): Promise<string> {
    const path = `${this.runDir}/${CHECKPOINTS.last}`;
    if (!this.writes) return path; // rank 0's checkpoint is every rank's
    const state: TrainCheckpoint = {
      kind: "train-state",
      step: this.#pos.step,
      epoch: this.#pos.epochsDone,
      model: this.model.stateDict(),
      optimizer: this.#opt ? this.#opt.stateDict() : null,
      optimizerEpoch: this.#optEpoch,
      sampler: { seed: this.config.seed, ...this.#pos.next },
      rng: { seed: this.config.seed, ...RNG_NOTE },
      config: this.config,
      trainer: { ...this.#state, elapsed: this.#elapsed() },
      reason,
    };
    await saveCheckpoint(path, state);
    return path;
  }

  #elapsed(): number {
    return this.#state.elapsed + (performance.now() - this.#t0) / 1000;
  }

  /** Sets `requiresGrad` so that exactly the parameters the phase trains record gradients. */
  #applyFreezing(phase: RecipePhase): void {
    const trainable = new Set<Tensor>();
    for (const g of phase.groups) {
      if (g.frozen) continue;
      for (const s of g.sets) for (const p of this.model.parameterSet(s)) trainable.add(p);
    }
    for (const p of this.model.parameters()) {
      const want = trainable.has(p);
      if (p.requiresGrad !== want) p.requiresGrad = want;
      if (!want) p.grad = null;
    }
  }

  /** The optimizer for `epoch`: a new Adam at each epoch (`official`) or one for the run
   * (`clean`; rebuilt only if a phase changes the group layout). */
  #ensureOptimizer(epoch: number): Adam {
    const phase = recipePhase(this.recipe, epoch);
    const o = this.recipe.optimizer;
    const rebuild = this.#opt === null ||
      (o.lifetime === "epoch" && this.#optEpoch !== epoch) ||
      (this.#optPhase !== null && !sameGroups(this.#optPhase, phase));
    if (rebuild) {
      this.#opt?.dispose();
      this.#opt = new Adam(
        phase.groups.map((g) => ({
          params: g.sets.flatMap((s) => this.model.parameterSet(s)),
          lr: g.lr,
        })),
        { betas: [o.betas[0], o.betas[1]], eps: o.eps, weightDecay: o.weightDecay },
      );
      this.#optPhase = phase;
    }
    this.#optEpoch = epoch;
    return this.#opt!;
  }

  /** DDP around the model for the parameters the phase trains (a new wrapper when they change:
   * the reducer's buckets are fixed at construction, as PyTorch's). Every rank calls it at the
   * same point (its construction broadcasts rank 0's weights). */
  #ensureDdp(): void {
    if (!this.dist) return;
    const params = this.model.parameters().filter((p) => p.requiresGrad);
    const same = params.length === this.#ddpParams.length &&
      params.every((p, i) => p === this.#ddpParams[i]);
    if (this.#ddp && same) return;
    this.#ddp?.release();
    this.#ddp = new DistributedDataParallel(
      new DsvaWithLoss(this.model, this.dist.group.worldSize),
      {
        processGroup: this.dist.group,
        bucketCapMb: this.dist.bucketCapMb ?? 25,
        // Which parameters get no gradient differs by phase and loss weights (e.g. the crop
        // branch); the reducer finds them from the loss.
        findUnusedParameters: true,
        broadcastBuffers: false,
      },
    );
    this.#ddpParams = params;
  }

  /** Scores `samples` as {@link scoreSamples} does; on ranks, each scores a contiguous share
   * and every rank gets all rows (one all-gather of uneven shares), so that each can select the
   * best epoch alike. A share's batches differ from one process's, which can move the scores by
   * float rounding (matrix kernels of other sizes). */
  async #score(
    samples: readonly Sample[],
    scoring: { useAC: boolean; onBadImage: BadImagePolicy },
  ): Promise<ScoredSet> {
    const cfg = this.config;
    const group = this.dist?.group;
    if (!group || samples.length === 0) {
      return await scoreSamples(this.model, samples, this.classAttributes, cfg, scoring);
    }
    // Each rank scores a contiguous share; a row carries its three branches' scores and its
    // label (a share may have left unreadable images out under `onBadImage: skip`).
    const per = Math.ceil(samples.length / group.worldSize);
    const mine = samples.slice(group.rank * per, (group.rank + 1) * per);
    const part = await scoreSamples(this.model, mine, this.classAttributes, cfg, scoring);
    const c = part.c, width = 3 * c + 1;
    const rows = new Float32Array(part.n * width);
    for (let i = 0; i < part.n; i++) {
      BRANCHES.forEach((b, k) =>
        rows.set(part.scores[b].subarray(i * c, (i + 1) * c), i * width + k * c)
      );
      rows[i * width + 3 * c] = part.labels[i];
    }
    const onDevice = group.backend === "nccl" ? (cfg.device as Device) : "cpu";
    const all = scope(() => {
      const t = fromBuffer(rows, [part.n, width], { dtype: "float32", device: onDevice });
      const parts = group.allGather(t);
      try {
        return parts.map((x) => x.cpu().toTypedArray() as Float32Array);
      } finally {
        parts.forEach((x) => x.dispose());
      }
    });
    const n = all.reduce((sum, a) => sum + a.length / width, 0);
    const scores = {
      vam: new Float32Array(n * c),
      global: new Float32Array(n * c),
      fused: new Float32Array(n * c),
    };
    const labels = new Int32Array(n);
    let row = 0;
    for (const a of all) {
      for (let i = 0; i < a.length / width; i++, row++) {
        BRANCHES.forEach((b, k) =>
          scores[b].set(a.subarray(i * width + k * c, i * width + (k + 1) * c), row * c)
        );
        labels[row] = a[i * width + 3 * c];
      }
    }
    return { n, c, labels, scores };
  }

  /** Trains until the last epoch (or `maxSteps`) or until `hooks.stopRequested()`. */
  async run(hooks: TrainHooks): Promise<TrainOutcome> {
    const cfg = this.config;
    this.#t0 = performance.now();
    const sampler = new EpisodicSampler(this.data.train.map((s) => s.label), {
      ways: cfg.ways,
      shots: cfg.shots,
      batchesPerEpoch: cfg.batchesPerEpoch,
      seed: cfg.seed,
    });
    const loader = new ImageLoader(this.data.train, {
      transform: trainingTransform(cfg),
      normalization: normalizationOf(cfg),
      concurrency: cfg.loaderConcurrency,
      workers: cfg.workers,
      seed: cfg.seed,
    });
    const seenRow = new Map(this.data.seen.map((c, i) => [c, i]));
    const device = cfg.device as Device;
    const group = this.dist?.group ?? null;
    const world = group?.worldSize ?? 1;
    // This process's share of each global episode (all of it without `dist`).
    const share = rankSlice(cfg.ways * cfg.shots, group?.rank ?? 0, world);
    // The epoch's phase: set by beginEpoch, used by its steps.
    let opt: Adam | null = null;
    let lossCfg: DsvaLossConfig | null = null;
    let useAC = false;
    this.model.train();
    const owed = this.#state.pendingEvaluation;
    if (owed !== undefined) {
      hooks.log(`epoch ${owed + 1}: running its end-of-epoch evaluation, which failed before`);
      await this.#evaluateEpoch(owed, hooks);
      delete this.#state.pendingEvaluation;
      await this.saveState("epoch");
    }

    const outcome = await runEpochs<LoadedBatch>(
      {
        epochs: cfg.epochs,
        batchesPerEpoch: cfg.batchesPerEpoch,
        maxSteps: cfg.maxSteps,
        position: this.#pos,
        batches: (epoch, from) => {
          sampler.restore({ seed: cfg.seed, epoch, batch: from });
          const plans = sampler.epoch();
          return loader.batches(
            world === 1 ? plans : (function* () {
              for (const p of plans) {
                const indices = p.indices.slice(share.start, share.start + share.size);
                yield { ...p, indices, firstSlot: share.start };
              }
            })(),
          );
        },
        beginEpoch: (epoch, from) => {
          const phase = recipePhase(this.recipe, epoch);
          this.#applyFreezing(phase);
          this.#ensureDdp();
          opt = this.#ensureOptimizer(epoch);
          lossCfg = recipeLoss(this.recipe, epoch);
          useAC = acInTraining(cfg, epoch);
          if (from === 0) {
            this.#state.epochLossSum = 0;
            this.#state.epochSteps = 0;
            hooks.log(
              `epoch ${epoch + 1}/${cfg.epochs}: ${phase.name}; AC ${useAC ? "on" : "off"}; lr ${
                groupLearningRates(this.recipe, epoch, 0).map((x) => x.toExponential(1)).join(", ")
              }`,
            );
          }
        },
        step: (b, epoch, since) => {
          const optimizer = opt!;
          const lrs = groupLearningRates(this.recipe, epoch, b.batch);
          lrs.forEach((lr, i) => (optimizer.paramGroups[i].lr = lr));
          const values = scope(() =>
            dsvaTrainStep({
              model: this.model,
              optimizer,
              pixels: batchToTensor(b, device),
              labels: fromBuffer(
                BigInt64Array.from(b.labels, (l) => BigInt(seenRow.get(l)!)),
                [b.labels.length],
                { dtype: "int64", device },
              ),
              attributes: this.seenAttributes,
              loss: lossCfg!,
              useAC,
              config: cfg,
              step: this.#pos.step,
              epoch,
              batch: b.batch,
              ...(this.#ddp ? { ddp: this.#ddp } : {}),
            })
          );
          const images = b.shape[0] * world;
          const stepIps = images / Math.max(1e-6, (performance.now() - since) / 1000);
          const s = this.#state;
          s.lossEma = Number.isFinite(s.lossEma)
            ? 0.95 * s.lossEma + 0.05 * values.total
            : values.total;
          s.epochLossSum += values.total;
          s.epochSteps++;
          const { total, ...terms } = values;
          if (this.writes) {
            this.metrics.append({
              type: "step",
              step: this.#pos.step + 1,
              epoch,
              batch: b.batch,
              loss: total,
              terms,
              lr: lrs,
              imagesPerSecond: stepIps,
              time: this.#elapsed(),
            });
          }
          return { images, loss: s.lossEma };
        },
        endEpoch: async (epoch, last) => {
          if ((epoch + 1) % cfg.evalEvery === 0 || last) {
            await this.#evaluateKeepingEpoch(epoch, hooks);
          }
        },
        checkpoint: (reason) => this.saveState(reason),
      },
      group
        ? { ...hooks, stopRequested: () => agreedStop(group, device, hooks.stopRequested()) }
        : hooks,
    );
    return this.#outcome(outcome.status, outcome.reason);
  }

  #outcome(status: TrainOutcome["status"], reason?: string): TrainOutcome {
    return {
      status,
      ...(reason ? { reason } : {}),
      step: this.#pos.step,
      epochsDone: this.#pos.epochsDone,
      best: this.#state.best,
      testBest: this.#state.testBest ?? { zsl: null, H: null },
      seconds: this.#elapsed(),
    };
  }

  /** {@link Trainer.#evaluateEpoch}; when it fails, the finished epoch is saved first (its
   * checkpoint marked with the evaluation still owed, which resuming runs) and the error goes on.
   * Saving on failure rather than before every evaluation keeps one full-state write per epoch
   * (weights and Adam's moments: a gigabyte for ViT-B/32) and the checkpoints of a run that
   * evaluates cleanly as they were. */
  async #evaluateKeepingEpoch(epoch: number, hooks: TrainHooks): Promise<void> {
    try {
      await this.#evaluateEpoch(epoch, hooks);
    } catch (e) {
      this.#state.pendingEvaluation = epoch;
      try {
        const path = await this.saveState("evaluation-failed");
        hooks.log(
          `epoch ${epoch + 1}: its evaluation failed; the trained epoch is kept in ${path} ` +
            `(resuming runs the evaluation first)`,
        );
      } catch { /* the evaluation's error is the one to report */ }
      throw e;
    }
  }

  /** Held-out and (monitoring) test evaluation of one epoch, model selection and the best
   * checkpoint. The trainer's state changes only once nothing can fail but the log line, so a
   * failed evaluation can be run again from the same state. */
  async #evaluateEpoch(epoch: number, hooks: TrainHooks): Promise<void> {
    const cfg = this.config, d = this.data;
    const t0 = performance.now();
    const useAC = cfg.ac.enabled && cfg.ac.atTest;
    const scoring = { useAC, onBadImage: cfg.onBadImage };
    const heldout = d.heldout.length > 0 ? await this.#score(d.heldout, scoring) : null;
    const heldoutAcc = heldout ? heldoutSeenAccuracy(heldout, d.seen, "vam") : null;
    let test: EpochRecord["test"] = null;
    if (cfg.monitorTest || cfg.selection === "official") {
      const ts = concatSets(
        await this.#score(d.testSeen, scoring),
        await this.#score(d.testUnseen, scoring),
      );
      const g = chooseGamma(cfg, heldout, d.seen, d.unseen, "vam");
      const r = branchResult(ts, d.seen, d.unseen, "vam", g);
      test = { zsl: r.zsl, S: r.S, U: r.U, H: r.H, gamma: r.gamma, ausuc: r.ausuc };
    }
    const [score, metric] = cfg.selection === "official"
      ? [
        cfg.selectionMetric === "H" ? test!.H : test!.zsl,
        `test ${cfg.selectionMetric} (official)`,
      ]
      : cfg.selection === "heldout"
      ? [heldoutAcc!, "held-out seen accuracy"]
      : [epoch, "last epoch"];
    if (test) this.#recordTestBest(epoch, test);
    const prev = this.#state.best;
    const isBest = prev === null || score > prev.score;
    if (isBest) {
      const best = { epoch, step: this.#pos.step, score, metric };
      const ck: ModelCheckpoint = {
        kind: "model",
        step: this.#pos.step,
        epoch,
        model: this.model.stateDict(),
        config: cfg,
        best,
      };
      if (this.writes) await saveCheckpoint(`${this.runDir}/${CHECKPOINTS.best}`, ck);
      this.#state.best = best;
    }
    const s = this.#state;
    const rec: EpochRecord = {
      type: "epoch",
      epoch,
      step: this.#pos.step,
      trainLoss: s.epochSteps > 0 ? s.epochLossSum / s.epochSteps : NaN,
      heldoutSeenAcc: heldoutAcc,
      test,
      selectionScore: score,
      best: isBest,
      time: this.#elapsed(),
      evalSeconds: (performance.now() - t0) / 1000,
    };
    if (this.writes) this.metrics.append(rec);
    const pct = (x: number) => (x * 100).toFixed(1);
    hooks.log(
      `epoch ${epoch + 1}/${cfg.epochs} done: loss ${rec.trainLoss.toFixed(4)}` +
        (heldoutAcc !== null ? ` · held-out seen ${pct(heldoutAcc)}%` : "") +
        (test
          ? ` · test ZSL ${pct(test.zsl)}% S ${pct(test.S)} U ${pct(test.U)} H ${pct(test.H)}`
          : "") +
        (isBest ? ` · best (${metric})` : "") + ` · ${rec.time.toFixed(0)} s`,
    );
  }

  /** Keeps `test` as the best epoch by ZSL accuracy and by H when it beats the one so far
   * (strictly, as the official `Result`). */
  #recordTestBest(epoch: number, test: NonNullable<EpochRecord["test"]>): void {
    const bests = this.#state.testBest ?? { zsl: null, H: null };
    const now = { epoch, step: this.#pos.step, zsl: test.zsl, S: test.S, U: test.U, H: test.H };
    if (bests.zsl === null || test.zsl > bests.zsl.zsl) bests.zsl = now;
    if (bests.H === null || test.H > bests.H.H) bests.H = { ...now };
    this.#state.testBest = bests;
  }

  /** Frees the optimizer state, the DDP reducer and the attribute matrices (not the model). */
  dispose(): void {
    this.#ddp?.release();
    this.#ddp = null;
    this.#opt?.dispose();
    this.classAttributes.dispose();
    this.seenAttributes.dispose();
  }
}

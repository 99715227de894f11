/** The recipe a run follows: the named recipe (`official` or `clean`, src/dsva/recipes.ts) scaled
 * to the run's epochs and batches, with the config's learning rates and loss. The run's AC
 * settings are `config.ac` alone (the model reads its options, {@link acInTraining} its
 * epochs); the recipe's `ac` is only where resolution takes their defaults from. */
import { type DsvaRecipe, RECIPES, scaleRecipe } from "../dsva/recipes.ts";
import type { TrainConfig } from "../config/types.ts";

/** The run's recipe. Learning rates: a parameter group that holds the backbone gets
 * `lr.backbone`, any other `lr.heads` (so the official fine-tune phase, which trains everything
 * in one group, runs all at `lr.backbone` as the official code does). */
export function runRecipe(config: TrainConfig): DsvaRecipe {
  const scaled = scaleRecipe(RECIPES[config.recipe], {
    epochs: config.epochs,
    batchesPerEpoch: config.batchesPerEpoch,
    warmupEpochs: config.warmupEpochs,
  });
  return {
    ...scaled,
    phases: scaled.phases.map((ph) => ({
      ...ph,
      groups: ph.groups.map((g) => ({
        ...g,
        lr: g.sets.includes("backbone") ? config.lr.backbone : config.lr.heads,
      })),
      schedule: ph.schedule.kind === "cosineWithWarmup"
        ? { ...ph.schedule, warmupSteps: config.lr.warmupSteps }
        : ph.schedule,
    })),
    optimizer: { ...scaled.optimizer, betas: config.betas },
    loss: { ceOnProbabilities: config.loss.ceOnProbabilities, weights: config.loss.weights },
  };
}

/** Whether the AC runs in training at `epoch`. */
export function acInTraining(config: TrainConfig, epoch: number): boolean {
  return config.ac.enabled && epoch >= config.ac.fromEpoch;
}

/** Training checkpoints: model and optimizer tensors plus the JSON run state, in one
 * safetensors file.
 *
 * Every tensor in the state goes into the file under its dotted path (`model.<key>`,
 * `optimizer.<...>`), so Python's `safetensors` can read the weights directly; the
 * rest of the state (step, epoch, RNG and sampler state, config, optimizer
 * hyper-parameters) goes into `__metadata__` as JSON that records the tree's shape
 * exactly (Maps, bigints, NaN and -0 included). Written atomically. */
import type { Device } from "../tensor/index.ts";
import { WeightFileError } from "./errors.ts";
import { loadSafetensors, saveSafetensors } from "./safetensors.ts";
import { decodeTree, encodeTree } from "./state_tree.ts";

/** The `__metadata__` key holding the JSON state. */
export const CHECKPOINT_STATE_KEY = "dsva_torch.checkpoint";
/** The `__metadata__` key holding the checkpoint format version. */
export const CHECKPOINT_VERSION_KEY = "dsva_torch.checkpoint_version";
const VERSION = "1";

/** What a checkpoint holds. `model` is usually `module.stateDict()` and `optimizer`
 * `optimizer.stateDict()`; any other field is kept too. Values may be tensors,
 * numbers, bigints, strings, booleans, null, arrays, plain objects and Maps (string or
 * number keys), nested freely. */
export interface CheckpointState {
  /** Optimizer steps taken. */
  step: number;
  /** Epochs completed (or the current epoch, by the caller's convention). */
  epoch: number;
  /** Model weights and buffers. */
  model: unknown;
  /** Optimizer state (moments, step counts, parameter groups). */
  optimizer?: unknown;
  /** RNG seed and/or generator state. */
  rng?: unknown;
  /** Data sampler position and permutation. */
  sampler?: unknown;
  /** The resolved run configuration. */
  config?: unknown;
  /** Anything else worth keeping (kept under its own key). */
  [extra: string]: unknown;
}

/** Writes `state` to `path` atomically (temporary file, then rename). */
export async function saveCheckpoint(path: string, state: CheckpointState): Promise<void> {
  if (!Number.isSafeInteger(state.step) || !Number.isSafeInteger(state.epoch)) {
    throw new WeightFileError(path, "checkpoint step and epoch must be integers");
  }
  let enc;
  try {
    enc = encodeTree(state);
  } catch (e) {
    throw new WeightFileError(path, (e as Error).message, { cause: e });
  }
  await saveSafetensors(path, enc.tensors, {
    format: "pt",
    [CHECKPOINT_VERSION_KEY]: VERSION,
    [CHECKPOINT_STATE_KEY]: JSON.stringify(enc.json),
  });
}

/** Reads a checkpoint written by {@link saveCheckpoint}: the same tree, with fresh
 * tensors where tensors were (a tensor saved twice comes back as one shared tensor).
 * The caller owns the tensors; disposing the result (`using`) frees them all. */
export async function loadCheckpoint<T extends CheckpointState = CheckpointState>(
  path: string,
  opts: { device?: Device } = {},
): Promise<T & Disposable> {
  const tensors = await loadSafetensors(path, { device: opts.device });
  try {
    const version = tensors.metadata[CHECKPOINT_VERSION_KEY];
    const raw = tensors.metadata[CHECKPOINT_STATE_KEY];
    if (raw === undefined || version === undefined) {
      throw new WeightFileError(
        path,
        `not a checkpoint: __metadata__ has no "${CHECKPOINT_STATE_KEY}" (a plain safetensors file? use loadSafetensors)`,
      );
    }
    if (version !== VERSION) {
      throw new WeightFileError(path, `checkpoint format version ${version} is not supported`);
    }
    const used = new Set<string>();
    let state: unknown;
    try {
      state = decodeTree(JSON.parse(raw), (name) => {
        const t = tensors.get(name);
        if (t === undefined) {
          throw new WeightFileError(
            path,
            "the checkpoint state refers to it but the file lacks it",
            {
              entry: name,
            },
          );
        }
        used.add(name);
        return t;
      });
    } catch (e) {
      if (e instanceof WeightFileError) throw e;
      throw new WeightFileError(path, `corrupted checkpoint state: ${(e as Error).message}`, {
        cause: e,
      });
    }
    for (const name of tensors.keys()) {
      if (!used.has(name)) {
        throw new WeightFileError(path, "the file has it but the checkpoint state does not", {
          entry: name,
        });
      }
    }
    if (
      state === null || typeof state !== "object" || Array.isArray(state) ||
      typeof (state as CheckpointState).step !== "number" ||
      typeof (state as CheckpointState).epoch !== "number"
    ) {
      throw new WeightFileError(path, "corrupted checkpoint state: no step and epoch");
    }
    const s = state as T;
    Object.defineProperty(s, Symbol.dispose, {
      value: () => tensors.dispose(),
      enumerable: false,
    });
    return s as T & Disposable;
  } catch (e) {
    tensors.dispose();
    throw e;
  }
}

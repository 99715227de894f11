/** The `Optimizer` base class: parameter groups with their own
 * hyperparameters, per-parameter state tensors, `zeroGrad`, and the state
 * dict used to resume training. */
import { keep, noGrad, scope, type Tensor } from "../tensor/index.ts";
import { isFloating } from "../tensor/dtype.ts";

/** Hyperparameters every optimizer group has. */
export interface GroupHyper {
  /** Learning rate (set per step by a schedule, if any). */
  lr: number;
  /** Weight decay (L2 for SGD/Adam, decoupled for AdamW). */
  weightDecay: number;
  /** The lr a schedule scales (set by the first schedule attached). */
  initialLr?: number;
}

/** A parameter group: its tensors and its hyperparameters. */
export type ParamGroup<H extends GroupHyper> = H & { params: Tensor[] };

/** A group as given to a constructor: any hyperparameter left out takes the
 * optimizer's default. */
export type ParamGroupInit<H extends GroupHyper> = Partial<H> & { params: readonly Tensor[] };

/** What `stateDict()` returns and `loadStateDict()` takes. Parameters are
 * numbered across groups in order (PyTorch's layout); group entries hold
 * every hyperparameter and the indices of their parameters. */
export interface OptimizerStateDict {
  /** Per-parameter state by parameter index, e.g. `{ step, exp_avg, exp_avg_sq }`. */
  state: Record<string, Record<string, Tensor>>;
  /** Hyperparameters of each group with `params`: the indices of its parameters. */
  paramGroups: Record<string, unknown>[];
}

/** Per-parameter state: named tensors (`step`, `exp_avg`, `momentum_buffer`, ...). */
export type ParamState = Record<string, Tensor>;

/** Base of SGD, Adam and AdamW. The update itself runs without recording
 * gradients and inside a scope; state tensors are kept past scopes and freed
 * by `dispose()`. */
export abstract class Optimizer<H extends GroupHyper> implements Disposable {
  /** The groups, in order; change `lr` (or any hyperparameter) freely between steps. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** State of each parameter that has taken a step. */
  readonly state: Map<Tensor, ParamState> = new Map();
  /** Defaults for groups added later. */
  readonly defaults: H;

  /** Groups from `params` (a tensor list is one group), missing hyperparameters from `defaults`. */
  constructor(params: readonly Tensor[] | readonly ParamGroupInit<H>[], defaults: H) {
    this.defaults = defaults;
    if (params.length === 0) throw new RangeError("optimizer got an empty parameter list");
    const groups = isGroupList(params)
      ? params
      : [{ params: params as readonly Tensor[] } as ParamGroupInit<H>];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group (a parameter may belong to one group only). */
  addParamGroup(group: ParamGroupInit<H>): void {
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of group.params) {
      if (seen.has(p)) throw new RangeError("some parameters appear in more than one group");
      if (!isFloating(p.dtype)) {
        throw new TypeError(`can only optimize floating tensors, got ${p.dtype}`);
      }
      seen.add(p);
    }
    const g = { ...this.defaults, ...group, params: [...group.params] } as ParamGroup<H>;
    this.validate(g);
    this.paramGroups.push(g);
  }

  /** Checks a group's hyperparameters; throws a RangeError naming the bad one. */
  protected abstract validate(group: ParamGroup<H>): void;

  /** Updates the parameters of one group that have gradients (called under
   * noGrad, inside a scope). */
  protected abstract updateGroup(group: ParamGroup<H>): void;

  /** One optimization step over every group, from the current gradients.
   * Parameters without a gradient are skipped. */
  step(): void {
    noGrad(() =>
      scope(() => {
        for (const g of this.paramGroups) this.updateGroup(g);
      })
    );
  }

  /** Drops every parameter's gradient (`setToNone`, the default) or zeroes it in place. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (opts.setToNone === false) p.grad?.zero_();
        else p.grad = null;
      }
    }
  }

  /** The state of `p`, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** Stores a new state tensor (kept past scopes). */
  protected setState(p: Tensor, key: string, t: Tensor): Tensor {
    this.stateOf(p)[key] = keep(t);
    return t;
  }

  /** Hyperparameters and state for a checkpoint. The tensors are the
   * optimizer's own (not copies): write them out before the next `step()`. */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict["state"] = {};
    const paramGroups: Record<string, unknown>[] = [];
    let i = 0;
    for (const g of this.paramGroups) {
      const { params, ...hyper } = g;
      const ids: number[] = [];
      for (const p of params) {
        const s = this.state.get(p);
        if (s && Object.keys(s).length) state[String(i)] = { ...s };
        ids.push(i++);
      }
      paramGroups.push({ ...structuredClone(hyper), params: ids });
    }
    return { state, paramGroups };
  }

  /** Restores hyperparameters and state saved by `stateDict()` of an optimizer
   * over the same parameters (same group sizes, same order). State tensors are
   * copied to each parameter's device (and, except `step`, its dtype). */
  loadStateDict(sd: OptimizerStateDict): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new RangeError(
        `loadStateDict: the state dict has ${sd.paramGroups.length} parameter groups, this optimizer ${this.paramGroups.length}`,
      );
    }
    const byIndex: Tensor[] = [];
    sd.paramGroups.forEach((saved, gi) => {
      const ids = saved.params as number[];
      const mine = this.paramGroups[gi].params;
      if (!Array.isArray(ids) || ids.length !== mine.length) {
        throw new RangeError(
          `loadStateDict: group ${gi} has ${
            Array.isArray(ids) ? ids.length : "no"
          } parameters in the state dict, ${mine.length} here`,
        );
      }
      ids.forEach((id, k) => (byIndex[id] = mine[k]));
    });
    for (const [id, s] of Object.entries(sd.state)) {
      const p = byIndex[Number(id)];
      if (!p) throw new RangeError(`loadStateDict: state for unknown parameter index ${id}`);
      for (const [key, t] of Object.entries(s)) {
        const shapeless = key === "step";
        if (!shapeless && t.shape.join() !== p.shape.join()) {
          throw new RangeError(
            `loadStateDict: state ${id}.${key} has shape [${t.shape}], its parameter [${p.shape}]`,
          );
        }
      }
    }
    // Checks passed: copy the new state (the input may be our own), then swap it in.
    const fresh = new Map<Tensor, ParamState>();
    noGrad(() => {
      for (const [id, s] of Object.entries(sd.state)) {
        const p = byIndex[Number(id)];
        const mine: ParamState = {};
        for (const [key, t] of Object.entries(s)) {
          mine[key] = keep(scope(() => {
            const onDevice = t.to(p.device);
            const typed = key === "step" || !isFloating(t.dtype) ? onDevice : onDevice.to(p.dtype);
            return typed.clone();
          }));
        }
        fresh.set(p, mine);
      }
    });
    this.#freeState();
    for (const [p, s] of fresh) this.state.set(p, s);
    sd.paramGroups.forEach((saved, gi) => {
      const { params: _ids, ...hyper } = saved;
      Object.assign(this.paramGroups[gi], structuredClone(hyper));
    });
  }

  #freeState() {
    for (const s of this.state.values()) for (const t of Object.values(s)) t.dispose();
    this.state.clear();
  }

  /** Frees every state tensor (the parameters are not touched). */
  dispose(): void {
    this.#freeState();
  }

  /** Frees the state tensors (`using opt = new AdamW(...)`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

function isGroupList<H extends GroupHyper>(
  p: readonly Tensor[] | readonly ParamGroupInit<H>[],
): p is readonly ParamGroupInit<H>[] {
  const first = p[0] as unknown;
  return typeof first === "object" && first !== null && "params" in first;
}

/** Parameters of a group that have a gradient, with their gradients, split
 * by device and dtype (what one fused or foreach call can take). */
export function bucketsWithGrad(
  params: readonly Tensor[],
): { params: Tensor[]; grads: Tensor[] }[] {
  const out = new Map<string, { params: Tensor[]; grads: Tensor[] }>();
  for (const p of params) {
    const g = p.grad;
    if (g === null) continue;
    const key = `${p.device}|${p.dtype}`;
    let b = out.get(key);
    if (!b) {
      b = { params: [], grads: [] };
      out.set(key, b);
    }
    b.params.push(p);
    b.grads.push(g);
  }
  return [...out.values()];
}

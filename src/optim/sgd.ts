/** `SGD` with momentum, dampening, Nesterov and weight decay: libtorch's fused
 * kernel (`aten::_fused_sgd_`) where present, a per-parameter loop otherwise.
 * Same update, state and defaults as `torch.optim.SGD`. */
import { emptyLike, ops, type Tensor } from "../tensor/index.ts";
import { chooseImplementation, type Implementation } from "./kernels.ts";
import {
  bucketsWithGrad,
  type GroupHyper,
  Optimizer,
  type ParamGroup,
  type ParamGroupInit,
} from "./optimizer.ts";

/** Hyperparameters of an SGD group. */
export interface SGDHyper extends GroupHyper {
  /** Momentum factor (0: plain SGD, no state). */
  momentum: number;
  /** Dampening of the gradient added to the momentum buffer. */
  dampening: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** Options of `SGD`: defaults for every group, and the kernel choice. */
export interface SGDOptions extends Partial<SGDHyper> {
  /** `auto` (default): fused when libtorch has the kernel for these devices. */
  implementation?: Implementation | "auto";
}

/** Stochastic gradient descent. Per-parameter state: `momentum_buffer` (only
 * with momentum). */
export class SGD extends Optimizer<SGDHyper> {
  /** The kernel path in use. */
  readonly implementation: Implementation;

  /** SGD over `params` (tensors or groups); `opts` are the group defaults (lr 1e-3, no momentum). */
  constructor(
    params: readonly Tensor[] | readonly ParamGroupInit<SGDHyper>[],
    opts: SGDOptions = {},
  ) {
    const { implementation, ...hyper } = opts;
    super(params, {
      lr: 1e-3,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      ...hyper,
    });
    this.implementation = chooseImplementation(
      implementation ?? "auto",
      "aten::_fused_sgd_",
      this.paramGroups.flatMap((g) => g.params),
    );
  }

  /** Checks lr, momentum, weight decay and the Nesterov conditions. */
  protected validate(g: ParamGroup<SGDHyper>): void {
    if (!(g.lr >= 0)) throw new RangeError(`SGD: invalid lr ${g.lr}`);
    if (!(g.momentum >= 0)) throw new RangeError(`SGD: invalid momentum ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw new RangeError(`SGD: invalid weightDecay ${g.weightDecay}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new RangeError("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    }
  }

  /** One fused call per device/dtype bucket (two on the first momentum step), or the loop. */
  protected updateGroup(g: ParamGroup<SGDHyper>): void {
    if (this.implementation === "fused") this.#fused(g);
    else this.#loop(g);
  }

  #fused(g: ParamGroup<SGDHyper>) {
    for (const { params, grads } of bucketsWithGrad(g.params)) {
      const call = (ps: Tensor[], gs: Tensor[], bufs: Tensor[], isFirstStep: boolean) =>
        ops.aten._fused_sgd_.default(ps, gs, bufs, {
          weightDecay: g.weightDecay,
          momentum: g.momentum,
          lr: g.lr,
          dampening: g.dampening,
          nesterov: g.nesterov,
          maximize: g.maximize,
          isFirstStep,
        });
      if (g.momentum === 0) {
        call(params, grads, [], false);
        continue;
      }
      // The kernel's first step fills the buffers from the gradient; parameters
      // that already have a buffer go in a second call.
      const fresh: [Tensor[], Tensor[], Tensor[]] = [[], [], []];
      const going: [Tensor[], Tensor[], Tensor[]] = [[], [], []];
      params.forEach((p, i) => {
        const buf = this.state.get(p)?.momentum_buffer;
        const into = buf ? going : fresh;
        into[0].push(p);
        into[1].push(grads[i]);
        into[2].push(buf ?? this.setState(p, "momentum_buffer", emptyLike(grads[i])));
      });
      if (fresh[0].length) call(...fresh, true);
      if (going[0].length) call(...going, false);
    }
  }

  /** torch.optim's single-tensor SGD, op for op. */
  #loop(g: ParamGroup<SGDHyper>) {
    for (const { params, grads } of bucketsWithGrad(g.params)) {
      params.forEach((p, i) => {
        let grad = g.maximize ? grads[i].neg() : grads[i];
        if (g.weightDecay !== 0) grad = grad.add(p, g.weightDecay);
        if (g.momentum !== 0) {
          let buf = this.state.get(p)?.momentum_buffer;
          if (!buf) buf = this.setState(p, "momentum_buffer", grad.detach().clone());
          else buf.mul_(g.momentum).add_(grad, 1 - g.dampening);
          grad = g.nesterov ? grad.add(buf, g.momentum) : buf;
        }
        p.add_(grad, -g.lr);
      });
    }
  }
}

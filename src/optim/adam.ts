/** `Adam` and `AdamW`: libtorch's fused kernels (`aten::_fused_adam_` /
 * `_fused_adamw_`, one native call per device/dtype bucket) where present, a
 * per-parameter loop otherwise. Same update, state and defaults as
 * `torch.optim.Adam` / `AdamW`. */
import { ops, type Tensor, zeros, zerosLike } from "../tensor/index.ts";
import { chooseImplementation, type Implementation } from "./kernels.ts";
import {
  bucketsWithGrad,
  type GroupHyper,
  Optimizer,
  type ParamGroup,
  type ParamGroupInit,
} from "./optimizer.ts";

/** Hyperparameters of an Adam/AdamW group. */
export interface AdamHyper extends GroupHyper {
  /** Decay rates of the first and second moment averages. */
  betas: [number, number];
  /** Added to the denominator. */
  eps: number;
  /** Use the running maximum of the second moment (AMSGrad). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** Options of `Adam` / `AdamW`: defaults for every group, and the kernel choice. */
export interface AdamOptions extends Partial<AdamHyper> {
  /** `auto` (default): fused when libtorch has the kernel for these devices. */
  implementation?: Implementation | "auto";
  /** Decoupled weight decay (AdamW's); false for Adam. */
  decoupledWeightDecay?: boolean;
}

function check(g: ParamGroup<AdamHyper>) {
  const [b1, b2] = g.betas;
  if (!(g.lr >= 0)) throw new RangeError(`Adam: invalid lr ${g.lr}`);
  if (!(g.eps >= 0)) throw new RangeError(`Adam: invalid eps ${g.eps}`);
  if (!(b1 >= 0 && b1 < 1)) throw new RangeError(`Adam: invalid beta1 ${b1} (need [0, 1))`);
  if (!(b2 >= 0 && b2 < 1)) throw new RangeError(`Adam: invalid beta2 ${b2} (need [0, 1))`);
  if (!(g.weightDecay >= 0)) throw new RangeError(`Adam: invalid weightDecay ${g.weightDecay}`);
}

/** Adam (Kingma & Ba); with `decoupled` weight decay it is AdamW (Loshchilov &
 * Hutter). Per-parameter state: `step` (float32, 0-d), `exp_avg`,
 * `exp_avg_sq`, and `max_exp_avg_sq` with amsgrad. */
export class Adam extends Optimizer<AdamHyper> {
  /** The kernel path in use. */
  readonly implementation: Implementation;
  /** Whether weight decay is decoupled (AdamW) or added to the gradient (Adam). */
  readonly decoupledWeightDecay: boolean;

  /** Adam over `params` (tensors or groups); `opts` are the group defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8). */
  constructor(
    params: readonly Tensor[] | readonly ParamGroupInit<AdamHyper>[],
    opts: AdamOptions = {},
  ) {
    const { implementation, decoupledWeightDecay, ...hyper } = opts;
    const decoupled = decoupledWeightDecay ?? false;
    super(params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
      ...hyper,
    });
    this.decoupledWeightDecay = decoupled;
    this.implementation = chooseImplementation(
      implementation ?? "auto",
      decoupled ? "aten::_fused_adamw_" : "aten::_fused_adam_",
      this.paramGroups.flatMap((g) => g.params),
    );
  }

  /** Checks lr, eps, betas and weight decay. */
  protected validate(g: ParamGroup<AdamHyper>): void {
    check(g);
  }

  /** State of `p`, created (zeros) on its first step. */
  #init(p: Tensor, amsgrad: boolean, stepOnDevice: boolean) {
    const s = this.stateOf(p);
    if (!s.step) {
      this.setState(
        p,
        "step",
        zeros([], { dtype: "float32", device: stepOnDevice ? p.device : "cpu" }),
      );
      this.setState(p, "exp_avg", zerosLike(p));
      this.setState(p, "exp_avg_sq", zerosLike(p));
    }
    if (amsgrad && !s.max_exp_avg_sq) this.setState(p, "max_exp_avg_sq", zerosLike(p));
    return s;
  }

  /** One step-count add and one fused call per device/dtype bucket, or the loop. */
  protected updateGroup(g: ParamGroup<AdamHyper>): void {
    if (this.implementation === "fused") this.#fused(g);
    else this.#loop(g);
  }

  #fused(g: ParamGroup<AdamHyper>) {
    const kernel = this.decoupledWeightDecay ? ops.aten._fused_adamw_ : ops.aten._fused_adam_;
    for (const { params, grads } of bucketsWithGrad(g.params)) {
      const st = params.map((p) => this.#init(p, g.amsgrad, true));
      const steps = st.map((s) => s.step);
      ops.aten._foreach_add_.Scalar(steps, 1);
      kernel.default(
        params,
        grads,
        st.map((s) => s.exp_avg),
        st.map((s) => s.exp_avg_sq),
        g.amsgrad ? st.map((s) => s.max_exp_avg_sq) : [],
        steps,
        {
          lr: g.lr,
          beta1: g.betas[0],
          beta2: g.betas[1],
          weightDecay: g.weightDecay,
          eps: g.eps,
          amsgrad: g.amsgrad,
          maximize: g.maximize,
        },
      );
    }
  }

  /** torch.optim's single-tensor Adam, op for op. */
  #loop(g: ParamGroup<AdamHyper>) {
    const [beta1, beta2] = g.betas;
    for (const { params, grads } of bucketsWithGrad(g.params)) {
      params.forEach((p, i) => {
        const s = this.#init(p, g.amsgrad, false);
        let grad = g.maximize ? grads[i].neg() : grads[i];
        s.step.add_(1);
        if (g.weightDecay !== 0) {
          if (this.decoupledWeightDecay) p.mul_(1 - g.lr * g.weightDecay);
          else grad = grad.add(p, g.weightDecay);
        }
        ops.aten.lerp_.Scalar(s.exp_avg, grad, 1 - beta1);
        ops.aten.addcmul_(s.exp_avg_sq.mul_(beta2), grad, grad, { value: 1 - beta2 });
        const step = s.step.item();
        const biasCorrection1 = 1 - beta1 ** step;
        const biasCorrection2 = 1 - beta2 ** step;
        const stepSize = g.lr / biasCorrection1;
        const biasCorrection2Sqrt = biasCorrection2 ** 0.5;
        let second = s.exp_avg_sq;
        if (g.amsgrad) {
          s.max_exp_avg_sq.copy_(s.max_exp_avg_sq.maximum(s.exp_avg_sq));
          second = s.max_exp_avg_sq;
        }
        const denom = second.sqrt().div(biasCorrection2Sqrt).add_(g.eps);
        ops.aten.addcdiv_(p, s.exp_avg, denom, { value: -stepSize });
      });
    }
  }
}

/** AdamW: Adam with decoupled weight decay (default 0.01), as `torch.optim.AdamW`. */
export class AdamW extends Adam {
  /** AdamW over `params` (tensors or groups); weight decay 0.01 unless `opts` says otherwise. */
  constructor(
    params: readonly Tensor[] | readonly ParamGroupInit<AdamHyper>[],
    opts: AdamOptions = {},
  ) {
    super(params, { weightDecay: 1e-2, ...opts, decoupledWeightDecay: true });
  }
}

/** Functional gradients: `torch.autograd.grad`. Grad mode is in `grad_mode.ts`. */
import { checkWarnings, lastError, lib } from "./runtime.ts";
import { fromHandle, type Tensor } from "./tensor.ts";

/** The keywords of `torch.autograd.grad`. */
export interface GradOptions {
  /** `grad_outputs=`: the vector of the vector-Jacobian product (null: ones for a scalar). */
  gradOutputs?: (Tensor | null)[];
  /** `retain_graph=`: keep the graph for another backward pass (default: `createGraph`). */
  retainGraph?: boolean;
  /** `create_graph=`: record the backward pass, for higher-order gradients. */
  createGraph?: boolean;
  /** `allow_unused=`: null, not an error, for an input the outputs do not depend on. */
  allowUnused?: boolean;
}

const handles = (ts: readonly (Tensor | null)[]) =>
  new Float64Array(ts.map((t) => (t ? t.handle : 0)));

/** `torch.autograd.grad(outputs, inputs, ...)`: the gradients of `outputs` with respect to
 * `inputs`, null where an input is unused and `allowUnused` is set.
 *
 * @example A second derivative
 * ```ts
 * import assert from "node:assert/strict";
 * import { torch } from "../../mod.ts";
 * using x = torch.tensor([3], { requiresGrad: true });
 * torch.scope(() => {
 *   const y = x.pow(3); // y = x³, dy/dx = 3x², d²y/dx² = 6x
 *   const [dy] = torch.grad(y.sum(), x, { createGraph: true });
 *   const [d2y] = torch.grad(dy!.sum(), x);
 *   assert.deepEqual([dy!.item(), d2y!.item()], [27, 18]);
 * });
 * ```
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  opts: GradOptions = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs as Tensor];
  const ins = Array.isArray(inputs) ? inputs : [inputs as Tensor];
  const results = new Float64Array(ins.length);
  const rc = lib.dt_autograd_grad(
    handles(outs),
    outs.length,
    handles(opts.gradOutputs ?? outs.map(() => null)),
    handles(ins),
    ins.length,
    opts.retainGraph === undefined ? -1 : opts.retainGraph ? 1 : 0,
    opts.createGraph ? 1 : 0,
    opts.allowUnused ? 1 : 0,
    results,
  );
  checkWarnings();
  if (rc < 0) throw lastError("autograd.grad");
  return Array.from(results, (h) => (h === 0 ? null : fromHandle(h)));
}

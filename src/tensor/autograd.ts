/** Functional gradients: `torch.autograd.grad`. Grad mode is in `grad_mode.ts`. */
import { checkWarnings, lastError, lib } from "./runtime.ts";
import { fromHandle, type Tensor } from "./tensor.ts";

export interface GradOptions {
  gradOutputs?: (Tensor | null)[];
  retainGraph?: boolean;
  createGraph?: boolean;
  allowUnused?: boolean;
}

const handles = (ts: readonly (Tensor | null)[]) =>
  new Float64Array(ts.map((t) => (t ? t.handle : 0)));

/** Gradients of `outputs` with respect to `inputs` (torch.autograd.grad);
 * null where an input is unused and `allowUnused` is set. */
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

/** Which update kernels the linked libtorch offers: the fused optimizer
 * kernels (`aten::_fused_adam_`, `_fused_adamw_`, `_fused_sgd_`, on CPU since
 * torch 2.4) and the multi-tensor `_foreach_*` ops. */
import { schemasOf, type Tensor, version } from "../tensor/index.ts";

/** How an optimizer runs its update: one fused native call per device/dtype
 * bucket, or a few ops per parameter (the portable fallback). */
export type Implementation = "fused" | "forloop";

const known = new Map<string, boolean>();

/** Whether libtorch has operator `name` (e.g. `aten::_fused_adam_`). */
export function hasOp(name: string): boolean {
  let v = known.get(name);
  if (v === undefined) {
    v = schemasOf(name).length > 0;
    known.set(name, v);
  }
  return v;
}

/** Devices the fused kernels serve (PyTorch's list, as far as this binding reaches). */
const FUSED_DEVICES = /^(cpu|cuda(:\d+)?)$/;

/** The implementation to use: the requested one, or `fused` when the kernel
 * exists and every parameter is on a device it serves. */
export function chooseImplementation(
  requested: Implementation | "auto",
  fusedOp: string,
  params: readonly Tensor[],
): Implementation {
  const canFuse = hasOp(fusedOp) && params.every((p) => FUSED_DEVICES.test(p.device));
  if (requested === "fused" && !canFuse) {
    throw new Error(
      `${fusedOp} is not available in libtorch ${version()} for parameters on ${
        [...new Set(params.map((p) => p.device))].join(", ")
      }; use implementation: "forloop" or "auto"`,
    );
  }
  if (requested === "auto") return canFuse ? "fused" : "forloop";
  return requested;
}

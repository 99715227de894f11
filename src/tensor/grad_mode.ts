/** Grad mode: whether libtorch records operations for autograd. libtorch's grad mode is per
 * thread; the JS main thread is the one that matters here. Kept apart from `autograd.ts` (which
 * makes tensors) so that printing, which reads values without recording, needs no Tensor import.
 */
import { lib } from "./runtime.ts";

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = lib.dt_grad_set_enabled(enabled ? 1 : 0);
  try {
    const r = fn();
    if (r instanceof Promise) {
      throw new TypeError("noGrad/enableGrad take a synchronous function");
    }
    return r;
  } finally {
    lib.dt_grad_set_enabled(prev);
  }
}

/** `torch.no_grad()`: runs `fn` with gradient recording off (a function, not a context
 * manager; `fn` must be synchronous). */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);
/** `torch.enable_grad()`: runs `fn` with gradient recording on, e.g. inside a `noGrad`. */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);
/** `torch.is_grad_enabled()`: whether operations are recorded for autograd now. */
export const isGradEnabled = (): boolean => lib.dt_grad_is_enabled() !== 0;
/** `torch.set_grad_enabled(mode)`: turns gradient recording on or off until changed again. */
export function setGradEnabled(on: boolean): void {
  lib.dt_grad_set_enabled(on ? 1 : 0);
}

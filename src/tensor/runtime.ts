/** The loaded shim plus the few helpers every call needs: errors, warnings, C strings. */
import { lib } from "../../ffi/lib.ts";
import { TorchError } from "../../ffi/errors.ts";

export { lib, TorchError };

const enc = new TextEncoder();
export const cstr = (s: string) => enc.encode(s + "\0");

export function readCString(p: Deno.PointerValue): string | null {
  return p === null ? null : Deno.UnsafePointerView.getCString(p);
}

/** The pending libtorch error of this thread, as a TorchError. */
export function lastError(op?: string): TorchError {
  return new TorchError(readCString(lib.dt_last_error()) ?? "unknown libtorch error", op);
}

// libtorch warnings: the shim queues them; a counter in native memory tells us
// (one load, no call) whether any are waiting.
const warnCount = new Int32Array(
  Deno.UnsafePointerView.getArrayBuffer(lib.dt_warning_count_ptr()!, 4),
);
const seenWarnings = new Set<string>();
let warningSink: ((msg: string) => void) | null = null;

/** Routes libtorch warnings (Python's `warnings.warn` from PyTorch) to `fn` instead of
 * printing each distinct one once; null restores printing. */
export function onWarning(fn: ((msg: string) => void) | null): void {
  warningSink = fn;
}

function drainWarnings() {
  const all = readCString(lib.dt_take_warnings()) ?? "";
  for (const msg of all.split("\x1e")) {
    if (!msg) continue;
    if (warningSink) warningSink(msg);
    else if (!seenWarnings.has(msg)) {
      seenWarnings.add(msg);
      console.warn(`libtorch warning: ${msg}`);
    }
  }
}

/** Called after native calls: cheap when nothing is queued. */
export function checkWarnings(): void {
  if (warnCount[0] !== 0) drainWarnings();
}

/** PyTorch state dicts saved with `torch.save` (`pytorch_model.bin`, `.pt`), read by
 * libtorch's own unpickler in the shim, and TorchScript archives read by `torch::jit::load`. */
import { cstr, lastError, lib, readCString } from "../tensor/runtime.ts";
import { fromHandle } from "../tensor/tensor.ts";
import { WeightFileError } from "./errors.ts";
import { TensorMap } from "./tensor_map.ts";

/** Loads every tensor of a `torch.save`d state dict (the zip format PyTorch writes
 * since 1.6); nested dicts give dotted names (`{"model": {"w": t}}` → `model.w`),
 * values that are not tensors are skipped. The file is read whole by libtorch. The
 * caller owns the tensors (dispose the map, or use `using`). */
export function loadTorchBin(path: string): Promise<TensorMap> {
  return readNamedTensors(path, "torch.save file", (p) => lib.dt_state_dict_load(p));
}

/** Loads the parameters, then the buffers, of a TorchScript archive (`torch.jit.save`; OpenAI
 * distributes CLIP so), read by libtorch's `torch::jit::load` onto the CPU, with their dotted
 * module paths as names (`visual.conv1.weight`). Dtypes are kept (OpenAI's are partly fp16).
 * The caller owns the tensors. */
export function loadTorchScript(path: string): Promise<TensorMap> {
  return readNamedTensors(path, "TorchScript archive", (p) => lib.dt_jit_state_dict_load(p));
}

async function readNamedTensors(
  path: string,
  what: string,
  open: (p: Uint8Array) => number,
): Promise<TensorMap> {
  try {
    await Deno.stat(path);
  } catch (e) {
    throw new WeightFileError(path, `cannot open: ${(e as Error).message}`, { cause: e });
  }
  const d = open(cstr(path));
  if (d === 0) {
    const err = lastError();
    throw new WeightFileError(path, `not a readable ${what}: ${err.message}`, {
      cause: err,
    });
  }
  const out = new TensorMap();
  try {
    const n = lib.dt_state_dict_size(d);
    for (let i = 0; i < n; i++) {
      const key = readCString(lib.dt_state_dict_key(d, i))!;
      const h = lib.dt_state_dict_value(d, i);
      if (h === 0) throw new WeightFileError(path, lastError().message, { entry: key });
      out.set(key, fromHandle(h));
    }
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    lib.dt_state_dict_free(d);
  }
  return out;
}

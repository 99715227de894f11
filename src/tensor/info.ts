/** Runtime information and global switches: versions, CUDA, memory, seeds,
 * threads, autocast. */
import { libraryInfo } from "../../ffi/lib.ts";
import { DEVICE_TYPE, parseDevice } from "./device.ts";
import { assertDType, type DType, DTYPE_CODE } from "./dtype.ts";
import { lastError, lib, readCString, TorchError } from "./runtime.ts";

/** `torch.__version__`: the libtorch version the shim was built against, e.g. `2.13.0`. */
export const version = (): string => readCString(lib.dt_version()) ?? "unknown";
/** Where the shim was loaded from and how it was found (no PyTorch equivalent). */
export const library = (): typeof libraryInfo => ({ ...libraryInfo });

/** A CUDA device index as the shim's int32 parameter takes it. */
function deviceIndex(index: number, what: string): number {
  if (!Number.isInteger(index) || index < -1 || index > 127) {
    throw new TorchError(`${what}: expected a device index in -1..127, got ${index}`);
  }
  return index;
}

/** `torch.cuda`: whether CUDA is usable, the devices, and the caching allocator. */
export const cuda = {
  /** `torch.cuda.is_available()`. */
  isAvailable: (): boolean => lib.dt_cuda_is_available() !== 0,
  /** `torch.cuda.device_count()`. */
  deviceCount: (): number => lib.dt_cuda_device_count(),
  /** `torch.cuda.get_device_name(index)`, or null without that device. */
  deviceName: (index = 0): string | null =>
    readCString(lib.dt_cuda_device_name(deviceIndex(index, "cuda.deviceName"))),
  /** `torch.cuda.empty_cache()`: returns the allocator's unused cached blocks. */
  emptyCache(): void {
    if (lib.dt_cuda_empty_cache() < 0) throw lastError("cuda.emptyCache");
  },
  /** `torch.cuda.synchronize(index)`: waits for the device's queued work. */
  synchronize(index = 0): void {
    if (lib.dt_cuda_synchronize(deviceIndex(index, "cuda.synchronize")) < 0) {
      throw lastError("cuda.synchronize");
    }
  },
};

/** Live native tensors and their bytes; CUDA allocator figures for `cudaDevice`. */
export interface MemoryReport {
  /** Tensor handles alive in the shim (one per live `Tensor`). */
  liveTensors: number;
  /** Bytes of the storages those handles reference (views count their base). */
  liveBytes: number;
  /** `torch.cuda.memory_allocated()`, `memory_reserved()` and `max_memory_allocated()`; null
   * without CUDA. */
  cuda: { allocated: number; reserved: number; peakAllocated: number } | null;
}

const memBuf = new BigInt64Array(5);

/** Live native tensors and their bytes, and the CUDA allocator's figures for `cudaDevice`
 * (`torch.cuda.memory_stats`, in part). */
export function memory(cudaDevice = 0): MemoryReport {
  const hasCuda = cuda.deviceCount() > cudaDevice;
  lib.dt_memory_stats(hasCuda ? cudaDevice : -1, memBuf);
  const [live, bytes, alloc, reserved, peak] = Array.from(memBuf, Number);
  return {
    liveTensors: live,
    liveBytes: bytes,
    cuda: hasCuda ? { allocated: alloc, reserved, peakAllocated: peak } : null,
  };
}

/** `torch.manual_seed(seed)`: seeds libtorch's generators (CPU and CUDA). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new TorchError(`manualSeed: expected a non-negative integer, got ${seed}`);
  }
  if (lib.dt_manual_seed(BigInt(seed)) < 0) throw lastError("manualSeed");
}

/** `torch.get_num_threads()`: libtorch's intra-op CPU threads. */
export const getNumThreads = (): number => lib.dt_get_num_threads();
/** `torch.set_num_threads(n)`. */
export function setNumThreads(n: number): void {
  lib.dt_set_num_threads(n);
}

/** `torch.autocast(device_type, dtype)`: runs `fn` with autocast on for a device type (`"cuda"` or `"cpu"`), in
 * `dtype` (bfloat16 by default). */
export function autocast<T>(device: "cuda" | "cpu", fn: () => T, dtype: DType = "bfloat16"): T {
  const type = device === "cpu" ? DEVICE_TYPE.cpu : parseDevice(device).type;
  const was = lib.dt_autocast_is_enabled(type) === 1;
  const wasDtype = lib.dt_autocast_dtype(type); // restored too, so nesting works
  if (lib.dt_autocast_set(type, 1, DTYPE_CODE[assertDType(dtype)]) < 0) {
    throw lastError("autocast");
  }
  try {
    return fn();
  } finally {
    lib.dt_autocast_set(type, was ? 1 : 0, wasDtype);
  }
}

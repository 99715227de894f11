/** Runtime information and global switches: versions, CUDA, memory, seeds,
 * threads, autocast. */
import { libraryInfo } from "../../ffi/lib.ts";
import { DEVICE_TYPE, parseDevice } from "./device.ts";
import { assertDType, type DType, DTYPE_CODE } from "./dtype.ts";
import { lastError, lib, readCString, TorchError } from "./runtime.ts";

/** The libtorch version the shim was built against, e.g. `2.13.0`. */
export const version = (): string => readCString(lib.dt_version()) ?? "unknown";
/** Where the shim was loaded from and how it was found. */
export const library = () => ({ ...libraryInfo });

/** A CUDA device index as the shim's int32 parameter takes it. */
function deviceIndex(index: number, what: string): number {
  if (!Number.isInteger(index) || index < -1 || index > 127) {
    throw new TorchError(`${what}: expected a device index in -1..127, got ${index}`);
  }
  return index;
}

export const cuda = {
  isAvailable: (): boolean => lib.dt_cuda_is_available() !== 0,
  deviceCount: (): number => lib.dt_cuda_device_count(),
  deviceName: (index = 0): string | null =>
    readCString(lib.dt_cuda_device_name(deviceIndex(index, "cuda.deviceName"))),
  emptyCache(): void {
    if (lib.dt_cuda_empty_cache() < 0) throw lastError("cuda.emptyCache");
  },
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
  cuda: { allocated: number; reserved: number; peakAllocated: number } | null;
}

const memBuf = new BigInt64Array(5);

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

/** Seeds libtorch's generators (CPU and CUDA). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new TorchError(`manualSeed: expected a non-negative integer, got ${seed}`);
  }
  if (lib.dt_manual_seed(BigInt(seed)) < 0) throw lastError("manualSeed");
}

export const getNumThreads = (): number => lib.dt_get_num_threads();
export function setNumThreads(n: number): void {
  lib.dt_set_num_threads(n);
}

/** Runs `fn` with autocast on for a device type (`"cuda"` or `"cpu"`), in
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

/** `nn.DistributedDataParallel`: PyTorch's DDP engine (c10d's Reducer) around a module. */
import { isGradEnabled, type Tensor, TensorCore, TorchError } from "../tensor/index.ts";
import { lastError, lib } from "../tensor/runtime.ts";
import { defaultProcessGroup, type ProcessGroup } from "../distributed/group.ts";
import { Module } from "./module.ts";

/** A module with a forward of any signature. */
// deno-lint-ignore no-explicit-any
type Forwarding = Module & { forward(...args: any[]): any };

/** Options of {@linkcode DistributedDataParallel}, named as PyTorch's. */
export interface DdpOptions {
  /** The group to reduce over (default: the default group). */
  processGroup?: ProcessGroup;
  /** Size of a gradient bucket in MiB (default 25, as PyTorch). */
  bucketCapMb?: number;
  /** Size of the first bucket in MiB (default 1, PyTorch's `_DEFAULT_FIRST_BUCKET_BYTES`). */
  firstBucketCapMb?: number;
  /** Tolerate parameters that get no gradient in a step (default false). */
  findUnusedParameters?: boolean;
  /** Copy rank 0's buffers (e.g. BatchNorm statistics) to every rank before each forward
   * (default true, as PyTorch). */
  broadcastBuffers?: boolean;
}

const MiB = 1024 * 1024;

/** The tensors of a forward's result: itself, or the values of an array or plain object. */
function tensorsIn(x: unknown): Tensor[] {
  if (x instanceof TensorCore) return [x as Tensor];
  if (Array.isArray(x)) return x.flatMap(tensorsIn);
  if (x && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.values(x).flatMap(tensorsIn);
  }
  return [];
}

/** Data parallelism as `torch.nn.parallel.DistributedDataParallel`: at construction every
 * rank's parameters and buffers are overwritten with rank 0's, and each `forward` arms
 * c10d's Reducer, which all-reduces gradient buckets while `backward()` is still running, so
 * that when it returns every parameter's `.grad` is the average over ranks. The wrapped
 * module is a child named `module` (state dict keys `module.<name>`, as PyTorch). */
export class DistributedDataParallel<M extends Forwarding> extends Module {
  /** The wrapped module. */
  readonly module: M;
  readonly processGroup: ProcessGroup;
  readonly broadcastBuffers: boolean;
  readonly findUnusedParameters: boolean;
  #reducer: number;
  #params: Tensor[];

  /** Wraps `module`; every rank must construct it at the same point, with the same model. */
  constructor(module: M, opts: DdpOptions = {}) {
    super();
    this.module = this.registerModule("module", module);
    this.processGroup = opts.processGroup ?? defaultProcessGroup();
    this.broadcastBuffers = opts.broadcastBuffers ?? true;
    this.findUnusedParameters = opts.findUnusedParameters ?? false;
    this.#params = module.parameters().filter((p) => p.requiresGrad);
    // As PyTorch's _sync_module_states: every rank starts from rank 0's weights.
    const states = [...module.parameters(), ...module.buffers()];
    if (states.length > 0) this.processGroup.broadcast(states, { src: 0 });
    this.#reducer = lib.dt_ddp_reducer_new(
      this.processGroup.nativeHandle,
      Float64Array.from(this.#params, (p) => p.handle),
      this.#params.length,
      BigInt(Math.round((opts.bucketCapMb ?? 25) * MiB)),
      BigInt(Math.round((opts.firstBucketCapMb ?? 1) * MiB)),
      this.findUnusedParameters ? 1 : 0,
    );
    if (this.#reducer === 0) throw lastError("DistributedDataParallel");
  }

  /** Runs the module's forward; under grad mode the next `backward()` is reduced across ranks
   * (every rank must then call it). */
  forward(...args: Parameters<M["forward"]>): ReturnType<M["forward"]> {
    if (this.#reducer === 0) throw new TorchError("DistributedDataParallel used after dispose()");
    if (this.broadcastBuffers) {
      const buffers = this.module.buffers();
      if (buffers.length > 0) this.processGroup.broadcast(buffers, { src: 0 });
    }
    const out = this.module.forward(...args);
    if (isGradEnabled()) {
      // The outputs matter only with findUnusedParameters (the reducer traces the graph from
      // them); PyTorch passes [] otherwise, as here.
      const outputs = this.findUnusedParameters ? tensorsIn(out) : [];
      const rc = lib.dt_ddp_prepare(
        this.#reducer,
        Float64Array.from(outputs, (t) => t.handle),
        outputs.length,
      );
      if (rc < 0) {
        throw new TorchError(
          `preparing the gradient reduction failed on rank ${this.processGroup.rank}: ` +
            lastError().message,
          "DistributedDataParallel",
        );
      }
    }
    return out;
  }

  /** Parameter counts of the gradient buckets, in the order the reducer fills them. */
  bucketSizes(): number[] {
    const cap = this.#params.length;
    const out = new BigInt64Array(cap);
    const n = lib.dt_ddp_buckets(this.#reducer, out, cap);
    if (n < 0) throw lastError("DistributedDataParallel");
    return Array.from(out.slice(0, n), Number);
  }

  /** Frees the reducer (its autograd hooks go with it) and hands back the module, whose
   * tensors stay as they are: to wrap it again when the set of trained parameters changes. */
  release(): M {
    if (this.#reducer !== 0) lib.dt_ddp_reducer_free(this.#reducer);
    this.#reducer = 0;
    return this.module;
  }

  /** Frees the reducer (its autograd hooks go with it) and the module's tensors. */
  override dispose(): void {
    if (this.#reducer !== 0) lib.dt_ddp_reducer_free(this.#reducer);
    this.#reducer = 0;
    super.dispose();
  }
}

/** Process groups over c10d (`torch.distributed`'s engine): the TCPStore rendezvous, the Gloo
 * (CPU) or NCCL (CUDA) backend, and the collectives, each with a timeout. */
import { cstr, lastError, lib, TorchError } from "../tensor/runtime.ts";
import { fromHandle } from "../tensor/tensor.ts";
import type { Tensor } from "../tensor/index.ts";
import { type Rendezvous, rendezvousFromEnv } from "./env.ts";

/** The communication backend: Gloo for CPU tensors, NCCL for CUDA tensors. */
export type Backend = "gloo" | "nccl";
/** Reductions of {@linkcode ProcessGroup.allReduce}; `mean` is the sum divided by the world
 * size (as `ReduceOp.AVG`, which Gloo lacks). */
export type ReduceOp = "sum" | "mean" | "max" | "min";

const BACKEND_CODE: Record<Backend, number> = { gloo: 0, nccl: 1 };
const OP_CODE: Record<ReduceOp, number> = { sum: 0, mean: 1, max: 2, min: 3 };
/** torch.distributed's default (`default_pg_timeout`): 30 minutes. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** An explicit TCPStore address instead of the environment. */
export interface StoreOptions {
  /** Host of the store server (rank 0's machine). */
  host: string;
  /** Its port; 0 lets rank 0's server pick a free one (see {@linkcode ProcessGroup.storePort}). */
  port: number;
  /** This process's rank. */
  rank: number;
  /** Number of processes. */
  worldSize: number;
  /** Whether this process serves the store (default: rank 0). */
  isServer?: boolean;
}

/** Options of {@linkcode initProcessGroup}. */
export interface InitOptions {
  /** `gloo` (default; CPU tensors) or `nccl` (CUDA tensors, CUDA builds). */
  backend?: Backend;
  /** Rendezvous at this address ... */
  store?: StoreOptions;
  /** ... or from torchrun's environment (`true`: this process's; or a record of variables).
   * The default when `store` is not given. */
  env?: true | Record<string, string | undefined>;
  /** Timeout of the rendezvous and of every collective, in ms (default 30 min, as PyTorch). */
  timeoutMs?: number;
}

/** Per-call options of the collectives. */
export interface CollectiveOptions {
  /** This call's timeout in ms (default: the group's). */
  timeoutMs?: number;
}

function handles(ts: readonly Tensor[]): Float64Array {
  return Float64Array.from(ts, (t) => t.handle);
}

/** A c10d process group: this process's rank among `worldSize` processes and the
 * collectives between them. Collectives block until every rank has taken part; a rank that
 * died (its connections close) or did not arrive in time makes them throw a TorchError that
 * says so. */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: Backend;
  readonly timeoutMs: number;
  #store: number;
  #group: number;

  /** @internal use {@linkcode initProcessGroup}. */
  constructor(rdv: Rendezvous & { isServer: boolean }, backend: Backend, timeoutMs: number) {
    if (lib.dt_dist_backend_available(BACKEND_CODE[backend]) !== 1) {
      // The shim's own message names what to install.
      const h = lib.dt_dist_group_new(0, 0, 1, BACKEND_CODE[backend], 1n);
      throw new TorchError(
        h === 0 ? lastError().message : `backend ${backend} unavailable`,
        "distributed",
      );
    }
    this.rank = rdv.rank;
    this.worldSize = rdv.worldSize;
    this.backend = backend;
    this.timeoutMs = timeoutMs;
    const store = lib.dt_dist_store_tcp(
      cstr(rdv.host),
      rdv.port,
      rdv.worldSize,
      rdv.isServer ? 1 : 0,
      BigInt(timeoutMs),
    );
    if (store === 0) {
      throw new TorchError(
        `rank ${rdv.rank} of ${rdv.worldSize} could not ${
          rdv.isServer ? "serve" : "reach"
        } the store at ${rdv.host}:${rdv.port}: ${lastError().message}`,
        "distributed",
      );
    }
    const group = lib.dt_dist_group_new(
      store,
      rdv.rank,
      rdv.worldSize,
      BACKEND_CODE[backend],
      BigInt(timeoutMs),
    );
    if (group === 0) {
      const msg = lastError().message;
      lib.dt_dist_store_free(store);
      throw new TorchError(
        `rank ${rdv.rank} of ${rdv.worldSize}: creating the ${backend} process group failed ` +
          `(every rank must join within ${timeoutMs / 1000} s): ${msg}`,
        "distributed",
      );
    }
    this.#store = store;
    this.#group = group;
  }

  /** @internal the native group, for the DDP reducer. */
  get nativeHandle(): number {
    if (this.#group === 0) throw new TorchError("process group used after destroy()");
    return this.#group;
  }

  /** The port the store listens on (the chosen one when it was created with port 0). */
  storePort(): number {
    const p = lib.dt_dist_store_port(this.#store);
    if (p < 0) throw lastError("distributed");
    return p;
  }

  #fail(what: string, timeoutMs: number): never {
    const msg = lastError().message;
    // The shim marks failures of the transport (a closed connection, a timeout) as such;
    // anything else is a bad argument, said as it is.
    const cause = msg.includes("communication failed")
      ? `a peer rank exited or did not take part within ${timeoutMs / 1000} s (${msg})`
      : msg;
    throw new TorchError(
      `${what} failed on rank ${this.rank} of ${this.worldSize}: ${cause}`,
      "distributed",
    );
  }

  /** Reduces each tensor in place across ranks (`torch.distributed.all_reduce`). */
  allReduce(
    tensors: Tensor | readonly Tensor[],
    opts: CollectiveOptions & { op?: ReduceOp } = {},
  ): void {
    const ts = Array.isArray(tensors) ? tensors : [tensors as Tensor];
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    const op = opts.op ?? "sum";
    if (!(op in OP_CODE)) throw new TypeError(`allReduce: unknown op "${op}"`);
    const rc = lib.dt_dist_all_reduce(
      this.nativeHandle,
      handles(ts),
      ts.length,
      OP_CODE[op],
      BigInt(timeout),
    );
    if (rc < 0) this.#fail(`all_reduce(${op})`, timeout);
  }

  /** Overwrites each tensor in place with rank `src`'s (`torch.distributed.broadcast`). */
  broadcast(
    tensors: Tensor | readonly Tensor[],
    opts: CollectiveOptions & { src?: number } = {},
  ): void {
    const ts = Array.isArray(tensors) ? tensors : [tensors as Tensor];
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    const src = opts.src ?? 0;
    if (!Number.isInteger(src) || src < 0 || src >= this.worldSize) {
      throw new RangeError(`broadcast: src ${src} is not a rank of 0..${this.worldSize - 1}`);
    }
    const rc = lib.dt_dist_broadcast(
      this.nativeHandle,
      handles(ts),
      ts.length,
      src,
      BigInt(timeout),
    );
    if (rc < 0) this.#fail(`broadcast(src ${src})`, timeout);
  }

  /** Every rank's `t`, in rank order (`torch.distributed.all_gather`). The ranks' tensors may
   * differ in their first dimension (uneven shards); every other dimension and the dtype
   * must agree. The results are new tensors. */
  allGather(t: Tensor, opts: CollectiveOptions = {}): Tensor[] {
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    const out = new Float64Array(this.worldSize);
    const rc = lib.dt_dist_all_gather(this.nativeHandle, t.handle, out, BigInt(timeout));
    if (rc < 0) this.#fail("all_gather", timeout);
    return Array.from(out, (h) => fromHandle(h));
  }

  /** Returns when every rank has reached it (`torch.distributed.barrier`). */
  barrier(opts: CollectiveOptions = {}): void {
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    if (lib.dt_dist_barrier(this.nativeHandle, BigInt(timeout)) < 0) this.#fail("barrier", timeout);
  }

  /** Shuts the backend down and frees the group and its store. Safe to call twice. */
  destroy(): void {
    if (this.#group !== 0) lib.dt_dist_group_free(this.#group);
    if (this.#store !== 0) lib.dt_dist_store_free(this.#store);
    this.#group = this.#store = 0;
  }
}

let defaultGroup: ProcessGroup | null = null;

/** Joins the job's default process group (`torch.distributed.init_process_group`): from
 * torchrun's environment unless `store` gives the address. Blocks until every rank has
 * joined (or `timeoutMs` passes). */
export function initProcessGroup(opts: InitOptions = {}): ProcessGroup {
  if (defaultGroup) {
    throw new TorchError("the default process group is already initialized", "distributed");
  }
  const backend = opts.backend ?? "gloo";
  if (!(backend in BACKEND_CODE)) {
    throw new TypeError(`initProcessGroup: unknown backend "${backend}" (gloo or nccl)`);
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let rdv: Rendezvous & { isServer: boolean };
  if (opts.store) {
    const s = opts.store;
    rdv = {
      host: s.host,
      port: s.port,
      rank: s.rank,
      worldSize: s.worldSize,
      localRank: s.rank,
      localWorldSize: s.worldSize,
      agentStore: false,
      isServer: s.isServer ?? s.rank === 0,
    };
  } else {
    const env = rendezvousFromEnv(opts.env === true || !opts.env ? undefined : opts.env);
    rdv = { ...env, isServer: !env.agentStore && env.rank === 0 };
  }
  defaultGroup = new ProcessGroup(rdv, backend, timeoutMs);
  return defaultGroup;
}

/** Whether {@linkcode initProcessGroup} has run (and {@linkcode destroyProcessGroup} not). */
export const isInitialized = (): boolean => defaultGroup !== null;

/** The default group; throws when there is none. */
export function defaultProcessGroup(): ProcessGroup {
  if (!defaultGroup) {
    throw new TorchError(
      "no default process group: call distributed.initProcessGroup() first",
      "distributed",
    );
  }
  return defaultGroup;
}

/** This process's rank in the default group (`get_rank`). */
export const rank = (): number => defaultProcessGroup().rank;
/** Number of processes in the default group (`get_world_size`). */
export const worldSize = (): number => defaultProcessGroup().worldSize;

/** {@linkcode ProcessGroup.allReduce} on the default group. */
export const allReduce = (
  t: Tensor | readonly Tensor[],
  opts?: CollectiveOptions & { op?: ReduceOp },
): void => defaultProcessGroup().allReduce(t, opts);
/** {@linkcode ProcessGroup.broadcast} on the default group. */
export const broadcast = (
  t: Tensor | readonly Tensor[],
  opts?: CollectiveOptions & { src?: number },
): void => defaultProcessGroup().broadcast(t, opts);
/** {@linkcode ProcessGroup.allGather} on the default group. */
export const allGather = (t: Tensor, opts?: CollectiveOptions): Tensor[] =>
  defaultProcessGroup().allGather(t, opts);
/** {@linkcode ProcessGroup.barrier} on the default group. */
export const barrier = (opts?: CollectiveOptions): void => defaultProcessGroup().barrier(opts);

/** Destroys the default group (`destroy_process_group`); a no-op when there is none. */
export function destroyProcessGroup(): void {
  defaultGroup?.destroy();
  defaultGroup = null;
}
/** The same as {@linkcode destroyProcessGroup}. */
export const destroy = destroyProcessGroup;

/** Whether this build of the shim has `backend` (Gloo needs libgloo-dev's headers at build
 * time, NCCL a CUDA libtorch and nccl.h). */
export const isBackendAvailable = (backend: Backend): boolean =>
  lib.dt_dist_backend_available(BACKEND_CODE[backend]) === 1;

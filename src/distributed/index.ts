/**
 * `torch.distributed` on PyTorch's own engine, c10d: `initProcessGroup` joins the processes of
 * a job (a TCPStore rendezvous, from torchrun's environment or an explicit address), on Gloo
 * for CPU tensors or NCCL for CUDA tensors; the collectives (`allReduce`, `broadcast`,
 * `allGather` with uneven first dimensions, `barrier`) take timeouts, and a rank that dies
 * makes the others' collectives throw instead of hanging. `nn.DistributedDataParallel` builds
 * on the same groups.
 * @module
 */
export {
  allGather,
  allReduce,
  barrier,
  broadcast,
  DEFAULT_TIMEOUT_MS,
  defaultProcessGroup,
  destroy,
  destroyProcessGroup,
  initProcessGroup,
  isBackendAvailable,
  isInitialized,
  ProcessGroup,
  rank,
  worldSize,
} from "./group.ts";
export type { Backend, CollectiveOptions, InitOptions, ReduceOp, StoreOptions } from "./group.ts";
export { launchedDistributed, rendezvousFromEnv } from "./env.ts";
export type { Rendezvous } from "./env.ts";

/** The rendezvous a launcher hands a process: torchrun's environment variables (the same as
 * `torch.distributed`'s `env://`), or SLURM's when torchrun is not used. */

/** Where the processes of one job meet and who this one is. */
export interface Rendezvous {
  /** Host of the TCPStore server (`MASTER_ADDR`). */
  host: string;
  /** Its port (`MASTER_PORT`). */
  port: number;
  /** This process's rank, 0 ≤ rank < worldSize (`RANK`). */
  rank: number;
  /** Number of processes (`WORLD_SIZE`). */
  worldSize: number;
  /** Rank on this machine (`LOCAL_RANK`; picks the GPU). */
  localRank: number;
  /** Processes on this machine (`LOCAL_WORLD_SIZE`). */
  localWorldSize: number;
  /** Whether the launcher's agent already serves the store (torchrun sets
   * `TORCHELASTIC_USE_AGENT_STORE=True`): then every rank is a client, rank 0 included. */
  agentStore: boolean;
}

function int(env: Record<string, string | undefined>, name: string, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    if (fallback !== undefined) return fallback;
    throw new Error(
      `distributed: environment variable ${name} expected, but not set (launch with torchrun, ` +
        `or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)`,
    );
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`distributed: ${name}=${raw} is not a non-negative integer`);
  }
  return n;
}

/** Reads the rendezvous from `env` (default: the process environment). torchrun's names
 * first; under SLURM's `srun` without torchrun, `SLURM_PROCID` / `SLURM_NTASKS` /
 * `SLURM_LOCALID` stand in for `RANK` / `WORLD_SIZE` / `LOCAL_RANK` (`MASTER_ADDR` and
 * `MASTER_PORT` must still be exported by the batch script). */
export function rendezvousFromEnv(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Rendezvous {
  const e = { ...env };
  if (e.RANK === undefined && e.SLURM_PROCID !== undefined) {
    e.RANK = e.SLURM_PROCID;
    e.WORLD_SIZE ??= e.SLURM_NTASKS;
    e.LOCAL_RANK ??= e.SLURM_LOCALID;
    e.LOCAL_WORLD_SIZE ??= e.SLURM_NTASKS_PER_NODE?.replace(/\(.*$/, "");
  }
  const rank = int(e, "RANK");
  const worldSize = int(e, "WORLD_SIZE");
  if (worldSize < 1 || rank >= worldSize) {
    throw new Error(`distributed: RANK=${rank} is not below WORLD_SIZE=${worldSize}`);
  }
  const host = e.MASTER_ADDR;
  if (!host) {
    throw new Error(
      "distributed: environment variable MASTER_ADDR expected, but not set (the host of rank 0)",
    );
  }
  const port = int(e, "MASTER_PORT");
  if (port > 65535) throw new Error(`distributed: MASTER_PORT=${port} is not a port`);
  return {
    host,
    port,
    rank,
    worldSize,
    localRank: int(e, "LOCAL_RANK", rank),
    localWorldSize: int(e, "LOCAL_WORLD_SIZE", worldSize),
    agentStore: e.TORCHELASTIC_USE_AGENT_STORE === "True",
  };
}

/** Whether the environment describes a multi-process launch (torchrun, or `srun` with more
 * than one task). */
export function launchedDistributed(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): boolean {
  const world = env.WORLD_SIZE ?? (env.RANK === undefined ? env.SLURM_NTASKS : undefined);
  return world !== undefined && Number(world) > 1 && env.MASTER_ADDR !== undefined;
}

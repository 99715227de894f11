/**
 * `deno task train --nproc-per-node N`: what `torchrun --no-python --nproc-per-node N` does for
 * one machine, without Python. Starts N processes of the same command with torchrun's
 * environment (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `LOCAL_WORLD_SIZE`, `MASTER_ADDR`,
 * `MASTER_PORT`), passes SIGINT / SIGTERM on to them, shows rank 0's output (another rank's only
 * when it fails) and exits with the job's status. A rank that fails makes the others' collectives
 * fail (its connections close); any still running 30 s later are killed.
 * @module
 */
import { ConfigError, LAUNCH_FLAGS, type LaunchFlags } from "../config/index.ts";
import { stopOnSignals } from "./stop.ts";

/** The launch flags' long names (`--nproc-per-node`, ...). */
const LAUNCH_NAMES = LAUNCH_FLAGS.map((f) => f.flag.split(" ")[0]);

/** `argv` without the launch flags (each takes a value: `--flag v` or `--flag=v`): what every
 * rank runs. */
export function withoutLaunchFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (LAUNCH_NAMES.includes(a)) i++;
    else if (!LAUNCH_NAMES.some((n) => a.startsWith(`${n}=`))) out.push(a);
  }
  return out;
}

/** The checked launch: world size, this machine's first rank and the rendezvous address. */
export function launchPlan(f: LaunchFlags, freePort: () => number = pickFreePort) {
  const nproc = f.nprocPerNode ?? 1, nnodes = f.nnodes ?? 1, nodeRank = f.nodeRank ?? 0;
  const whole = (x: number) => Number.isInteger(x) && x >= 1;
  if (!whole(nproc)) throw new ConfigError(`--nproc-per-node ${nproc}: a whole number ≥ 1`);
  if (!whole(nnodes)) throw new ConfigError(`--nnodes ${nnodes}: a whole number ≥ 1`);
  if (!(Number.isInteger(nodeRank) && nodeRank >= 0 && nodeRank < nnodes)) {
    throw new ConfigError(`--node-rank ${nodeRank}: must be in 0..${nnodes - 1}`);
  }
  if (nnodes > 1 && (f.masterAddr === null || f.masterPort === null)) {
    throw new ConfigError(
      `--nnodes ${nnodes}: give every machine the same --master-addr (rank 0's host) and ` +
        `--master-port`,
    );
  }
  const port = f.masterPort ?? freePort();
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new ConfigError(`--master-port ${f.masterPort}: not a port`);
  }
  return {
    nproc,
    worldSize: nproc * nnodes,
    firstRank: nodeRank * nproc,
    masterAddr: f.masterAddr ?? "127.0.0.1",
    masterPort: port,
  };
}

function pickFreePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The last lines of a rank's output, shown when it fails. */
async function tail(stream: ReadableStream<Uint8Array>, keep: string[]): Promise<void> {
  const dec = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    const lines = (rest + dec.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop()!;
    keep.push(...lines);
    if (keep.length > 40) keep.splice(0, keep.length - 40);
  }
  if (rest) keep.push(rest);
}

/** Runs `script` (a `deno run` entry) with `args` as this machine's ranks and returns the
 * exit status: 0 when every rank finished, else the first failing rank's (130 / 143 when they
 * were stopped by a signal). */
export async function launchRanks(
  script: string,
  args: readonly string[],
  flags: LaunchFlags,
): Promise<number> {
  const plan = launchPlan(flags);
  console.error(
    `launching ${plan.nproc} rank(s) ${plan.firstRank}..${plan.firstRank + plan.nproc - 1} of ` +
      `${plan.worldSize}; rendezvous ${plan.masterAddr}:${plan.masterPort}`,
  );
  const children = Array.from({ length: plan.nproc }, (_, local) => {
    const rank = plan.firstRank + local;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args],
      env: {
        RANK: String(rank),
        WORLD_SIZE: String(plan.worldSize),
        LOCAL_RANK: String(local),
        LOCAL_WORLD_SIZE: String(plan.nproc),
        MASTER_ADDR: plan.masterAddr,
        MASTER_PORT: String(plan.masterPort),
        // As torchrun: one OpenMP thread per process unless told otherwise (the ranks set
        // libtorch's own thread count from the config).
        OMP_NUM_THREADS: Deno.env.get("OMP_NUM_THREADS") ?? "1",
      },
      stdin: "null",
      stdout: rank === 0 ? "inherit" : "piped",
      stderr: rank === 0 ? "inherit" : "piped",
    }).spawn();
    const lines: string[] = [];
    const drained = rank === 0
      ? Promise.resolve()
      : Promise.all([tail(child.stdout, lines), tail(child.stderr, lines)]);
    return { rank, child, lines, drained };
  });
  using stop = stopOnSignals({
    firstMessage: "passed on to every rank (they stop after the same step; rank 0 checkpoints)",
    secondMessage: "passed on to every rank",
  });
  stop.onSignal((sig) => {
    for (const c of children) {
      try {
        c.child.kill(sig);
      } catch { /* already exited */ }
    }
  });
  let first: { rank: number; code: number } | null = null;
  let killer: ReturnType<typeof setTimeout> | undefined;
  await Promise.all(children.map(async (c) => {
    const { code } = await c.child.status;
    await c.drained;
    if (code !== 0 && first === null) {
      first = { rank: c.rank, code };
      if (c.rank !== 0 && code !== 130 && code !== 143) {
        console.error(`rank ${c.rank} exited with status ${code}; its last lines:`);
        for (const l of c.lines) console.error(`[rank ${c.rank}] ${l}`);
      }
      killer = setTimeout(() => {
        for (const o of children) {
          try {
            o.child.kill("SIGKILL");
          } catch { /* already exited */ }
        }
      }, 30_000);
    }
  }));
  clearTimeout(killer);
  const f = first as { rank: number; code: number } | null;
  if (f && f.code !== 130 && f.code !== 143) {
    console.error(`the job failed: rank ${f.rank} exited first, with status ${f.code}`);
  }
  return f?.code ?? 0;
}

"""Timing shared by the Python baselines of `deno task bench` (vit, clip, train): the same
measures as bench/harness.ts takes on the Deno side, so that both columns mean the same."""

import time

import torch


def run_queue_ns():
    """Nanoseconds this thread has waited on a run queue (Linux schedstat), or None."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None


def timed(step):
    """Runs `step()` once: (wall ms, this process's CPU ms, this thread's run-queue wait ms)."""
    w0, c0, t0 = run_queue_ns(), time.process_time_ns(), time.perf_counter_ns()
    step()
    t1, c1, w1 = time.perf_counter_ns(), time.process_time_ns(), run_queue_ns()
    wait = None if w0 is None or w1 is None else (w1 - w0) / 1e6
    return (t1 - t0) / 1e6, (c1 - c0) / 1e6, wait


def timed_round(iters, threads, step):
    """`iters` timed calls of `step` with `threads` intra-op threads, as bench/harness.ts's Side."""
    torch.set_num_threads(threads)
    steps = [timed(step) for _ in range(iters)]
    return {
        "ms": [s[0] for s in steps],
        "cpuMs": [s[1] for s in steps],
        "waitMs": [s[2] for s in steps],
        "threads": torch.get_num_threads(),
    }

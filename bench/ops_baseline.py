"""Python torch baseline for `deno task bench ops` (bench/ops.ts).

Serves measurements over stdin/stdout so the Deno driver can alternate with it
without paying `import torch` each round: one JSON request per line in, one
JSON result per line out. The same workloads as bench/ops.ts:

  add:    a.add(b) on 16-element float32 tensors, the result freed at once
  matmul: relu(A @ B).sum().backward() on 512x512 float32 leaves that
          require grad, with A.grad = B.grad = None before each iteration

Request:  {"op":"add","threads":1,"iters":20000,"reps":5}   (or "op":"matmul")
Response: {"times":[...per rep: ns per add, ms per matmul step...],"threads":1}

The first line written (before any request) describes this torch. Run it by
hand with `--once` to print one measurement of each.
"""

import json
import sys
import time

import torch

from baseline_serve import serve


def bench_add(threads, iters, reps):
    torch.set_num_threads(threads)
    a = torch.randn(16)
    b = torch.randn(16)
    for _ in range(1000):
        a.add(b)
    out = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        for _ in range(iters):
            a.add(b)  # the result is freed when the call's value is dropped
        out.append((time.perf_counter_ns() - t0) / iters)
    return out, torch.get_num_threads()


def bench_matmul(threads, iters, reps):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    A = torch.randn(512, 512, generator=g).requires_grad_()
    B = torch.randn(512, 512, generator=g).requires_grad_()

    def step():
        A.grad = None
        B.grad = None
        A.matmul(B).relu().sum().backward()

    step()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        for _ in range(iters):
            step()
        out.append((time.perf_counter_ns() - t0) / iters / 1e6)
    return out, torch.get_num_threads()


BENCHES = {"add": bench_add, "matmul": bench_matmul}


def run_op(req):
    times, threads = BENCHES[req["op"]](req["threads"], req["iters"], req["reps"])
    return {"times": times, "threads": threads}


def main():
    if "--once" in sys.argv:
        for op, iters in (("add", 100000), ("matmul", 15)):
            print(op, json.dumps(run_op({"op": op, "threads": 1, "iters": iters, "reps": 3})))
        return
    serve({}, run_op)


if __name__ == "__main__":
    main()

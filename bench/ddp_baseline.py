"""PyTorch baseline for `deno task bench ddp` (bench/ddp.ts), part 2, run under torchrun.

Each rank (1 thread) holds parameters of the shapes in SHAPES_FILE (the DSVA model of the
bench's training run, same order), and times a step (zero grads, loss = sum of every parameter's
sum, backward, a gradient read) without and then with torch.nn.parallel.DistributedDataParallel
(gloo, bucket_cap_mb=25, PyTorch's first bucket of 1 MiB): the difference is the bucketed
gradient all-reduce. Each rank writes its result as JSON to OUT_DIR/<rank>.json (the ranks share
torchrun's stdout, where lines can interleave).

    torchrun --nproc-per-node 2 bench/ddp_baseline.py SHAPES_FILE STEPS WARMUP OUT_DIR
"""

import json
import statistics
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


class ParameterBag(torch.nn.Module):
    def __init__(self, shapes):
        super().__init__()
        self.list = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(*s)) for s in shapes])

    def forward(self):
        total = self.list[0].sum()
        for p in self.list[1:]:
            total = total + p.sum()
        return total


def timed(bag, forward, steps, warmup):
    ms = []
    for i in range(warmup + steps):
        dist.barrier()
        t0 = time.perf_counter()
        for p in bag.list:
            p.grad = None
        forward().backward()
        bag.list[0].grad.view(-1)[0].item()
        if i >= warmup:
            ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ms)


def main():
    shapes_file, steps, warmup, out_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(1)
    with open(shapes_file) as f:
        shapes = json.load(f)
    dist.init_process_group("gloo")
    bag = ParameterBag(shapes)
    local_ms = timed(bag, bag, steps, warmup)
    ddp = DistributedDataParallel(bag, bucket_cap_mb=25)
    ddp_ms = timed(bag, ddp, steps, warmup)
    buckets = len(ddp.reducer._get_zeros_like_grad_buckets())
    with open(f"{out_dir}/{dist.get_rank()}.json", "w") as f:
        json.dump({"localMs": local_ms, "ddpMs": ddp_ms, "allReduceMs": ddp_ms - local_ms,
                   "buckets": buckets, "torch": torch.__version__}, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

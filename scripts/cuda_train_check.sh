#!/usr/bin/env bash
# A short DSVA training and evaluation on CUDA with bf16 autocast, for a GPU machine with Python
# torch and no network (the device tool's machines):
#   1. builds the shim against that Python's libtorch (like scripts/cuda_check.sh),
#   2. `deno task train` on the synthetic scenes with --device cuda --autocast bf16 (the default
#      run's settings otherwise; generates the scenes there),
#   3. `deno task eval --run <dir> --device cuda --autocast bf16`,
# and copies the logs, eval.json and the report to OUT_DIR (default $OUT, else .cache/cuda_train).
#
#   bash scripts/cuda_train_check.sh [extra train flags...]
#
# Environment (everything must be there already, nothing is fetched):
#   DENO=<path>       a deno 2.x binary (e.g. unpacked from a carried deno.xz)
#   DENO_DIR=<dir>    Deno's cache holding the npm packages train/eval import (zod, commander,
#                     sharp with @img/sharp-linux-x64 and @img/sharp-libvips-linux-x64, csv-parse,
#                     detect-libc, semver). Make it on a machine with network:
#                       DENO_DIR=/tmp/dd deno cache scripts/train.ts scripts/eval.ts
#                     and carry only those packages' folders of /tmp/dd/npm/registry.npmjs.org
#                     (about 28 MB, 9 MB as .tar.xz).
#   PYTHON=<path>     the Python whose torch to build against (default python3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT_DIR="${OUT:-$ROOT/.cache/cuda_train}"
mkdir -p "$OUT_DIR"
DENO="${DENO:-$(command -v deno)}"
PYTHON="${PYTHON:-python3}"
export DSVA_TORCH_PYTHON="$PYTHON"
unset LIBTORCH VIRTUAL_ENV DSVA_TORCH_LIB
RUNS="$(mktemp -d)"
t0=$SECONDS

echo "==> build"
"$DENO" run -A --no-lock scripts/build.ts 2>&1 | tail -n 3

echo "==> train (cuda, bf16)"
"$DENO" run -A --no-lock --cached-only scripts/train.ts --device cuda --autocast bf16 \
  --runs-dir "$RUNS" --name cuda "$@" 2>&1 | tee "$OUT_DIR/train.log" | grep -v '^  ' | tail -n 40
last="$(tail -n 1 "$OUT_DIR/train.log")"
dir="$(sed -n 's/.*"runDir":"\([^"]*\)".*/\1/p' <<<"$last")"
[ -n "$dir" ] || { echo "train gave no runDir: $last"; exit 1; }

echo "==> eval (cuda, bf16)"
"$DENO" run -A --no-lock --cached-only scripts/eval.ts --run "$dir" --device cuda --autocast bf16 \
  --out "$RUNS/eval" 2>&1 | tee "$OUT_DIR/eval.log" | tail -n 20

cp "$dir/eval.json" "$dir/report.html" "$dir/config.json" "$dir/metrics.jsonl" "$OUT_DIR/" 2>/dev/null || true
echo "==> done in $((SECONDS - t0)) s; train: $last"

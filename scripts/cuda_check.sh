#!/usr/bin/env bash
# GPU check, for a CUDA machine that has Python `torch` and no network:
#   1. builds the native shim against that Python's libtorch (the project's .venv is not
#      needed and not used),
#   2. runs the CUDA tests (tests/*cuda*_test.ts, then tests named "cuda" in other files, e.g.
#      tests/distributed_test.ts's one NCCL rank training on the GPU),
#   3. runs `deno task bench ops` (Deno against Python torch on the same libtorch),
# and prints a summary. Exits non-zero when a step failed.
#
#   bash scripts/cuda_check.sh [LOG_DIR]        (logs default to .cache/cuda_check/)
#
# Environment:
#   DENO=<path>     a deno 2.x binary (default: `deno` on PATH or from scripts/env.sh). Deno is
#                   one self-contained file: copy it from a machine with network
#                   (`npm install deno@2.9`, then node_modules/deno/deno).
#   DENO_DIR=<dir>  Deno's cache, for test files that import npm packages (e.g. npm:sharp): fill
#                   it on a machine with network (`DENO_DIR=<dir> deno cache tests/*.ts`) and
#                   carry it. Everything here runs with --no-lock, so `deno task` does not try
#                   to install the lockfile's npm packages up front (which fails offline).
#   PYTHON=<path>   the Python whose torch is built against and serves as the oracle
#                   (default python3)
#   DSVA_CUDA_CHECK_SKIP_BENCH=1   skip the benchmark
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_DIR="${1:-$ROOT/.cache/cuda_check}"
mkdir -p "$LOG_DIR"
STARTED=$SECONDS
RESULTS=()
FAILURES=0

step() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'cuda_check: error: %s\n' "$*" >&2
  exit 1
}
record() { # name rc detail
  if [ "$2" -eq 0 ]; then
    RESULTS+=("ok      $1${3:+: $3}")
  else
    RESULTS+=("FAILED  $1 (exit $2)${3:+: $3}")
    FAILURES=$((FAILURES + 1))
  fi
}
strip() { sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1"; }
# Deno's test summary line of a log, without colours, e.g. `ok | 6 passed | 0 failed (2s)`.
test_summary() { strip "$1" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1; }

# ---------------------------------------------------------------------------------------------
step "tools"
if [ -z "${DENO:-}" ]; then
  # shellcheck source=scripts/env.sh
  source "$ROOT/scripts/env.sh"
  DENO="$(command -v deno || true)"
fi
[ -n "$DENO" ] && [ -x "$DENO" ] ||
  die "no deno binary: set DENO=/path/to/deno (one file; copy it from a machine with network)"
"$DENO" --version | head -n1 | grep -q '^deno 2\.' || die "$DENO is not deno 2.x"
# Tasks and tests that start `deno` find this one.
DENO_DIR_BIN="$(mktemp -d)"
ln -s "$(cd "$(dirname "$DENO")" && pwd)/$(basename "$DENO")" "$DENO_DIR_BIN/deno"
export PATH="$DENO_DIR_BIN:$PATH"
trap 'rm -rf "$DENO_DIR_BIN"' EXIT
echo "deno:    $("$DENO" --version | head -n1) ($DENO)"

PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || die "no $PYTHON: set PYTHON to the Python that has torch"
TORCH_INFO="$("$PYTHON" - <<'EOF'
import torch, torch.utils
ok = torch.cuda.is_available()
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}) at {torch.__path__[0]}")
print(f"gpu: {torch.cuda.get_device_name(0) if ok else 'none'} ({torch.cuda.device_count()} device(s))")
print(f"prefix: {torch.utils.cmake_prefix_path}")
print(f"available: {int(ok)}")
EOF
)" || die "$PYTHON cannot import torch"
echo "python:  $(command -v "$PYTHON")"
grep -v -e '^prefix:' -e '^available:' <<<"$TORCH_INFO" | sed 's/^/         /'
TORCH_PREFIX="$(sed -n 's/^prefix: //p' <<<"$TORCH_INFO")"
PY_CUDA="$(sed -n 's/^available: //p' <<<"$TORCH_INFO")"
[ "$PY_CUDA" = 1 ] || echo "warning: Python torch sees no CUDA device; the CUDA tests will be ignored"

# The loader and the tests' oracles both use this Python's torch; a .venv is not needed.
export DSVA_TORCH_PYTHON="$PYTHON"
unset LIBTORCH VIRTUAL_ENV DSVA_TORCH_LIB

# ---------------------------------------------------------------------------------------------
step "build the shim against $TORCH_PREFIX"
# A build folder configured against another libtorch keeps that one in CMake's cache
# (Torch_DIR): start it afresh.
cache="$ROOT/native/build/CMakeCache.txt"
if [ -f "$cache" ] && ! grep -qF "Torch_DIR:PATH=$TORCH_PREFIX" "$cache"; then
  echo "native/build was configured against another libtorch; reconfiguring"
  rm -rf "$ROOT/native/build"
fi
t0=$SECONDS
"$DENO" task --no-lock build 2>&1 | tee "$LOG_DIR/build.log"
rc=${PIPESTATUS[0]}
record "build" "$rc" "$(strip "$LOG_DIR/build.log" | grep -o 'libtorch [0-9][^ ]*$' | tail -n1), $((SECONDS - t0)) s"
[ "$rc" -eq 0 ] || die "the build failed; log: $LOG_DIR/build.log"
lib="$ROOT/native/build/libdsva_torch.so"
if [ -f "$lib" ] && command -v readelf >/dev/null 2>&1; then
  if readelf -d "$lib" | grep -q 'torch_cuda'; then
    echo "libdsva_torch.so links libtorch_cuda"
  else
    echo "warning: libdsva_torch.so does not link libtorch_cuda (a CPU libtorch?)"
  fi
fi
# Distributed: the Gloo group needs libgloo-dev's headers, the NCCL group nccl.h (the
# nvidia-nccl wheel beside torch); the shim references c10d::ProcessGroupNCCL only when built
# with it.
if [ -f "$lib" ] && command -v nm >/dev/null 2>&1; then
  dist_syms="$(nm -DC "$lib" 2>/dev/null)"
  nccl=no gloo=no
  grep -q 'c10d::ProcessGroupNCCL::ProcessGroupNCCL' <<<"$dist_syms" && nccl=yes
  grep -q 'c10d::ProcessGroupGloo::ProcessGroupGloo' <<<"$dist_syms" && gloo=yes
  echo "distributed process groups in libdsva_torch.so: gloo=$gloo nccl=$nccl"
  nccl_rc=0
  [ "$nccl" = yes ] || { [ "$PY_CUDA" = 1 ] && nccl_rc=1; }
  record "NCCL process group linked" "$nccl_rc" "gloo=$gloo nccl=$nccl$(
    [ "$(strip "$LOG_DIR/build.log" | grep -c 'no NCCL process group')" -gt 0 ] &&
      printf ', %s' "$(strip "$LOG_DIR/build.log" | grep -o 'no NCCL process group.*' | head -n1)")"
fi

# ---------------------------------------------------------------------------------------------
step "CUDA tests: tests/*cuda*_test.ts"
shopt -s nullglob
cuda_files=(tests/*cuda*_test.ts)
other_files=()
for f in tests/*_test.ts; do
  # Only files that mention CUDA at all: loading the others would cost time (and network,
  # for their npm imports) for nothing.
  case "$f" in *cuda*) ;; *) grep -qi cuda "$f" && other_files+=("$f") ;; esac
done
shopt -u nullglob
if [ ${#cuda_files[@]} -eq 0 ]; then
  record "cuda tests" 1 "no tests/*cuda*_test.ts"
else
  t0=$SECONDS
  "$DENO" test -A --no-lock "${cuda_files[@]}" 2>&1 | tee "$LOG_DIR/cuda_tests.log"
  rc=${PIPESTATUS[0]}
  summary="$(test_summary "$LOG_DIR/cuda_tests.log")"
  # Where Python sees a GPU, a CUDA test reported as ignored means the shim has no CUDA.
  if [ "$rc" -eq 0 ] && [ "$PY_CUDA" = 1 ] && grep -qE '[1-9][0-9]* ignored' <<<"$summary"; then
    echo "CUDA tests were ignored although Python torch sees a GPU: the shim has no CUDA"
    rc=1
  fi
  record "cuda tests (${cuda_files[*]})" "$rc" "${summary:-no summary}, $((SECONDS - t0)) s"
fi

if [ ${#other_files[@]} -gt 0 ]; then
  step "tests named \"cuda\" in ${other_files[*]}"
  t0=$SECONDS
  "$DENO" test -A --no-lock --filter '/cuda/i' "${other_files[@]}" 2>&1 | tee "$LOG_DIR/cuda_filtered.log"
  rc=${PIPESTATUS[0]}
  summary="$(test_summary "$LOG_DIR/cuda_filtered.log")"
  record "tests filtered by /cuda/i" "$rc" "${summary:-no summary}, $((SECONDS - t0)) s"
fi

# ---------------------------------------------------------------------------------------------
if [ -z "${DSVA_CUDA_CHECK_SKIP_BENCH:-}" ]; then
  step "deno task bench ops"
  t0=$SECONDS
  "$DENO" task --no-lock bench ops 2>&1 | tee "$LOG_DIR/bench_ops.log"
  rc=${PIPESTATUS[0]}
  record "bench ops" "$rc" "$((SECONDS - t0)) s"
  bench_json="$(strip "$LOG_DIR/bench_ops.log" | grep -E '^\{.*\}$' | tail -n 1)"
fi

# ---------------------------------------------------------------------------------------------
printf '\n======== cuda_check summary (%s s) ========\n' "$((SECONDS - STARTED))"
grep -v -e '^prefix:' -e '^available:' <<<"$TORCH_INFO"
printf '%s\n' "${RESULTS[@]}"
[ -n "${bench_json:-}" ] && echo "bench ops: $bench_json"
echo "logs: $LOG_DIR"
[ "$FAILURES" -eq 0 ]

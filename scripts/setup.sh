#!/usr/bin/env bash
# Sets up a checkout: Deno 2.9.x, the project's Python venv (pinned torch + test oracles),
# the C++ build tools, and the native shim. Idempotent: every step checks first and skips
# what is already there, so it is safe to rerun.
#
#   bash scripts/setup.sh
#
# Environment:
#   LIBTORCH=<dir>        build the shim against this libtorch (the venv's torch then only
#                         serves the tests as their oracle)
#   DSVA_TORCH_PIN=<spec> the torch requirement to install (default: torch==2.11.0, falling
#                         back to torch==2.13.0+cpu, then torch==2.13.0)
#   DSVA_DENO_VERSION     the npm `deno` version to install when deno is missing (default 2.9)
#   DSVA_DENO_PREFIX      where npm installs it (default ~/.local/deno-npm; never the project
#                         root: a package.json there changes how Deno resolves npm packages)
#   PYTHON                the Python that creates .venv (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DENO_VERSION="${DSVA_DENO_VERSION:-2.9}"
DENO_PREFIX="${DSVA_DENO_PREFIX:-$HOME/.local/deno-npm}"
BIN_DIR="$HOME/.local/bin"
VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"
if [ -n "${DSVA_TORCH_PIN:-}" ]; then
  TORCH_PINS=("$DSVA_TORCH_PIN")
else
  # 2.11.0 matches the CUDA machines we target; the others are what a local mirror may hold.
  TORCH_PINS=("torch==2.11.0" "torch==2.13.0+cpu" "torch==2.13.0")
fi
# pip name:import name of the test oracles.
ORACLES=(numpy:numpy safetensors:safetensors transformers:transformers scipy:scipy
  scikit-image:skimage h5py:h5py pillow:PIL tokenizers:tokenizers
  # the official DSVA code (tests/official_parity_test.ts) imports these too
  scikit-learn:sklearn matplotlib:matplotlib opencv-python-headless:cv2
  # open_clip's tokenizer needs ftfy (open_clip itself is installed below, without its deps)
  ftfy:ftfy regex:regex)
# tests/open_clip_test.ts's oracle. --no-deps: its torchvision dependency cannot be imported beside
# the CPU torch and, once installed, breaks transformers' imports too; the oracle puts a stand-in
# for the few torchvision names open_clip imports on sys.path instead.
OPEN_CLIP="open_clip_torch==3.3.0"

STARTED=$SECONDS
step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() {
  printf '\nsetup: error: %s\n' "$*" >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    die "apt-get is not available; install these yourself and rerun: $*"
  info "apt-get install $*"
  if [ -z "$APT_UPDATED" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# ---------------------------------------------------------------------------------------------
step "1/5 C++ build tools (cmake, g++, make, libgloo-dev) and a font"
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
{ command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1; } || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
# The PNG pictures' labels are SVG text that sharp's librsvg sets through fontconfig: without a
# font (slim images ship none) they come out blank or as boxes.
{ [ -f /etc/fonts/fonts.conf ] && find /usr/share/fonts /usr/local/share/fonts \
  -name '*.[ot]tf' -print -quit 2>/dev/null | grep -q .; } || missing+=(fonts-dejavu-core)
# gloo's headers, which the torch wheel's ProcessGroupGloo.hpp includes but does not ship: the
# shim's distributed training (Gloo process group) is built only where they are.
[ -f /usr/include/gloo/algorithm.h ] || [ -f /usr/local/include/gloo/algorithm.h ] ||
  missing+=(libgloo-dev)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
else
  info "found $(cmake --version | head -n1), $(c++ --version 2>/dev/null | head -n1 || g++ --version | head -n1)"
fi

# ---------------------------------------------------------------------------------------------
step "2/5 Deno ${DENO_VERSION}.x"
DENO_ON_PATH="$(command -v deno 2>/dev/null || true)"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
deno_ok() { "$1" --version 2>/dev/null | head -n1 | grep -q '^deno 2\.'; }

# The real binary inside an npm install of `deno` (the platform package, or the copy its
# postinstall puts beside bin.cjs); the first one that runs.
npm_deno_binary() {
  local c
  for c in "$DENO_PREFIX"/node_modules/@deno/linux-*/deno "$DENO_PREFIX/node_modules/deno/deno"; do
    if [ -f "$c" ] && [ -x "$c" ] && deno_ok "$c"; then
      printf '%s\n' "$c"
      return 0
    fi
  done
  return 1
}

if command -v deno >/dev/null 2>&1 && deno_ok "$(command -v deno)"; then
  info "found $(deno --version | head -n1) at $(command -v deno)"
else
  if command -v deno >/dev/null 2>&1; then
    info "$(command -v deno) is $(deno --version 2>/dev/null | head -n1 || echo 'unusable'); installing Deno ${DENO_VERSION} beside it"
  fi
  if ! bin="$(npm_deno_binary)"; then
    if ! command -v npm >/dev/null 2>&1; then
      apt_install nodejs npm
    fi
    info "npm install --prefix $DENO_PREFIX deno@$DENO_VERSION"
    mkdir -p "$DENO_PREFIX"
    npm install --prefix "$DENO_PREFIX" --no-audit --no-fund --loglevel=error \
      "deno@$DENO_VERSION"
    bin="$(npm_deno_binary)" ||
      die "npm installed deno@$DENO_VERSION into $DENO_PREFIX but no runnable binary was found there"
  fi
  mkdir -p "$BIN_DIR"
  ln -sf "$bin" "$BIN_DIR/deno"
  export PATH="$BIN_DIR:$PATH"
  hash -r
  info "installed $(deno --version | head -n1): $BIN_DIR/deno -> $bin"
fi
DENO_BIN="$(command -v deno)"

# ---------------------------------------------------------------------------------------------
step "3/5 Python venv with torch ($VENV)"
if [ -x "$VPY" ] && "$VPY" -c 'import sys' >/dev/null 2>&1; then
  info "found $("$VPY" --version 2>&1)"
else
  command -v "$PYTHON" >/dev/null 2>&1 || apt_install python3 python3-venv
  clear=()
  [ -e "$VENV" ] && clear=(--clear) # a venv copied from elsewhere, or half-made
  info "$PYTHON -m venv ${clear[*]} .venv"
  if ! "$PYTHON" -m venv "${clear[@]}" "$VENV"; then
    # Debian/Ubuntu ship venv's ensurepip separately.
    apt_install python3-venv
    "$PYTHON" -m venv --clear "$VENV" || die "could not create $VENV with $PYTHON"
  fi
fi

# pip's configured indexes are kept as they are. Fewer retries than pip's 5 (with backoff) keep
# an unreachable extra index from costing seconds per package; PIP_RETRIES overrides.
export PIP_RETRIES="${PIP_RETRIES:-2}"
pkg_version() { "$VPY" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null; }
PIP_LOG="$VENV/setup-pip.log"

torch_version="$(pkg_version torch || true)"
if [ -n "$torch_version" ]; then
  info "torch $torch_version already installed"
else
  for spec in "${TORCH_PINS[@]}"; do
    info "pip install $spec (pip's configured indexes; log: $PIP_LOG)"
    if "$VPY" -m pip install "$spec" 2>&1 | tee "$PIP_LOG"; then
      torch_version="$(pkg_version torch)"
      break
    fi
    if grep -qE 'No matching distribution|Could not find a version|ResolutionImpossible' "$PIP_LOG"; then
      info "$spec is not available from the configured package indexes"
    else
      info "installing $spec failed (see above)"
    fi
  done
  [ -n "$torch_version" ] ||
    die "no torch wheel could be installed (tried: ${TORCH_PINS[*]}); set DSVA_TORCH_PIN=torch==<version>"
  info "installed torch $torch_version"
fi

step "4/5 test oracles (${ORACLES[*]%%:*})"
need=()
for o in "${ORACLES[@]}"; do
  "$VPY" -c "import importlib.util as u, sys; sys.exit(u.find_spec('${o#*:}') is None)" \
    2>/dev/null || need+=("${o%%:*}")
done
if [ ${#need[@]} -eq 0 ]; then
  info "all installed"
else
  # Naming the installed torch keeps pip from replacing it while resolving the oracles' needs.
  info "pip install ${need[*]}"
  "$VPY" -m pip install "torch==$torch_version" "${need[@]}" 2>&1 | tee "$PIP_LOG" ||
    die "installing the test oracles failed (log: $PIP_LOG)"
fi

if [ "$(pkg_version open_clip_torch || true)" = "${OPEN_CLIP#*==}" ]; then
  info "$OPEN_CLIP already installed"
else
  info "pip install --no-deps $OPEN_CLIP"
  "$VPY" -m pip install --no-deps "$OPEN_CLIP" 2>&1 | tee "$PIP_LOG" ||
    die "installing $OPEN_CLIP failed (log: $PIP_LOG)"
fi

# ---------------------------------------------------------------------------------------------
step "5/5 native shim (deno task build)"
if [ -n "${LIBTORCH:-}" ]; then
  info "LIBTORCH=$LIBTORCH: building against it; the venv's torch serves the tests only"
fi
"$DENO_BIN" task build || die "building the native shim failed (see above)"

# ---------------------------------------------------------------------------------------------
cat <<EOF

Set-up done in $((SECONDS - STARTED)) s: $("$DENO_BIN" --version | head -n1), torch $torch_version in .venv.

Run, from $ROOT:
  deno task train        # the main job: train and evaluate DSVA on the synthetic scenes (CPU, minutes)
  deno task data inspect <your dataset>   # check a dataset of your own (README: "Your own dataset")
  deno task test         # the test suite (Python torch in .venv is the oracle)
  deno task check        # fmt, lint, type check
  deno task bench ops    # per-op speed against Python torch
EOF
if [ -z "$DENO_ON_PATH" ]; then
  cat <<EOF

Deno is in $(dirname "$DENO_BIN"), which is not on your shell's PATH yet: run
  source scripts/env.sh     (or add $(dirname "$DENO_BIN") to PATH in your shell profile)
EOF
fi

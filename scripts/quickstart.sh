#!/usr/bin/env bash
# One command for a fresh machine: set everything up (scripts/setup.sh: Deno, the Python
# venv with torch, the native build), then run the main job on the built-in data.
#   bash scripts/quickstart.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
printf '\n==> main job\n'
exec deno task main

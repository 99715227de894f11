#!/usr/bin/env bash
# The test suite, runnable right after scripts/setup.sh in any shell (it puts the Deno
# that setup installed on PATH first). Extra arguments go to `deno test`, e.g. a file:
#   bash scripts/test.sh                   # everything
#   bash scripts/test.sh tests/vit_test.ts # one file
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
if [ $# -eq 0 ]; then
  exec deno task test
fi
exec deno test -A "$@"

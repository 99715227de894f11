# shellcheck shell=bash
# Puts the Deno that scripts/setup.sh installs on PATH. Source it:
#   source scripts/env.sh
# Safe to source more than once; changes nothing when `deno` is already on PATH.
if ! command -v deno >/dev/null 2>&1; then
  for _dsva_dir in "${DENO_INSTALL:-$HOME/.deno}/bin" "$HOME/.local/bin"; do
    if [ -x "$_dsva_dir/deno" ]; then
      export PATH="$_dsva_dir:$PATH"
      break
    fi
  done
  unset _dsva_dir
fi

/** Finds the libtorch to build against, without importing Python's torch (slow). */
import { exists } from "./fs.ts";

/** A libtorch installation: its CMake prefix and version. */
export interface Libtorch {
  /** Directory that holds `share/cmake/Torch` (or the CMake config directly). */
  cmakePrefix: string;
  /** Version without the local tag, e.g. `2.13.0`. */
  version: string;
  /** Where it was found, for messages. */
  origin: string;
}

function readVersion(file: string, pattern: RegExp): string | undefined {
  try {
    return Deno.readTextFileSync(file).match(pattern)?.[1]?.replace(/\+.*/, "");
  } catch {
    return undefined;
  }
}

/** A libtorch unpacked from PyTorch's zip (has `build-version`). */
function fromDir(dir: string, origin: string): Libtorch | undefined {
  if (!exists(`${dir}/share/cmake/Torch/TorchConfig.cmake`)) return undefined;
  const version = readVersion(`${dir}/build-version`, /^(\S+)/) ??
    readVersion(`${dir}/include/torch/headeronly/version.h`, /TORCH_VERSION_MAJOR (\d+)/) ??
    "unknown";
  return { cmakePrefix: `${dir}/share/cmake`, version, origin };
}

/** The `torch` package of a Python site-packages folder. */
function fromPackage(pkg: string, origin: string): Libtorch | undefined {
  if (!exists(`${pkg}/share/cmake/Torch/TorchConfig.cmake`)) return undefined;
  const version = readVersion(`${pkg}/version.py`, /__version__\s*=\s*['"]([^'"]+)/) ??
    "unknown";
  return { cmakePrefix: `${pkg}/share/cmake`, version, origin };
}

function venvTorch(venv: string): Libtorch | undefined {
  try {
    for (const e of Deno.readDirSync(`${venv}/lib`)) {
      if (!e.name.startsWith("python")) continue;
      const found = fromPackage(`${venv}/lib/${e.name}/site-packages/torch`, `venv ${venv}`);
      if (found) return found;
    }
  } catch { /* no venv there */ }
  return undefined;
}

function pythonTorch(python: string): Libtorch | undefined {
  try {
    const out = new Deno.Command(python, {
      args: [
        "-c",
        "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')",
      ],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const dir = new TextDecoder().decode(out.stdout).trim();
    return dir ? fromPackage(dir, `${python}'s torch package`) : undefined;
  } catch {
    return undefined;
  }
}

/** Search order: `LIBTORCH`, `DSVA_TORCH_PYTHON`, the active or project venv,
 * `python3` on PATH, then a system install. */
export function findLibtorch(projectRoot?: string): Libtorch | undefined {
  const env = (k: string) => Deno.env.get(k);
  const libtorch = env("LIBTORCH");
  if (libtorch) {
    const found = fromDir(libtorch, "LIBTORCH") ?? fromPackage(libtorch, "LIBTORCH");
    if (!found) {
      throw new Error(`LIBTORCH=${libtorch} holds no share/cmake/Torch/TorchConfig.cmake`);
    }
    return found;
  }
  const python = env("DSVA_TORCH_PYTHON");
  if (python) return pythonTorch(python);
  const venvs = [env("VIRTUAL_ENV"), projectRoot && `${projectRoot}/.venv`, `${Deno.cwd()}/.venv`];
  for (const v of venvs) {
    const found = v ? venvTorch(v) : undefined;
    if (found) return found;
  }
  return pythonTorch("python3") ??
    fromDir("/usr/local/libtorch", "/usr/local/libtorch") ??
    (exists("/usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake")
      ? {
        cmakePrefix: "/usr/lib/x86_64-linux-gnu/cmake",
        version: readVersion(
          "/usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfigVersion.cmake",
          /PACKAGE_VERSION "([^"]+)"/,
        ) ?? "unknown",
        origin: "system package",
      }
      : undefined);
}

/** What to tell a user who has no libtorch. */
export const MISSING_LIBTORCH = `No libtorch was found. Do one of:
  * run scripts/setup.sh in a checkout (creates .venv with the pinned torch wheel), or
  * python3 -m venv .venv && .venv/bin/pip install torch   (any torch 2.x, CPU or CUDA), or
  * unpack libtorch from pytorch.org and set LIBTORCH=<that folder>, or
  * set DSVA_TORCH_PYTHON=<a python whose torch package should be used>.
Searched: LIBTORCH, DSVA_TORCH_PYTHON, $VIRTUAL_ENV, ./.venv, python3 on PATH, /usr/local/libtorch,
and the system CMake folder.`;

/** Finds, builds when needed, and loads the native shim.
 *
 * Order: `DSVA_TORCH_LIB` (a path to the library); the checkout's own build
 * (`native/build`, when its stamp matches); the per-user cache
 * (`$DSVA_TORCH_CACHE`, else `$XDG_CACHE_HOME/dsva-torch`, else `~/.cache/dsva-torch`),
 * keyed by the hash of the native sources and the libtorch version; else a
 * CMake build. When this module is imported from an http(s) URL, the native
 * sources are fetched from beside it into the cache and built there. */
import { cacheRoot } from "./cache_root.ts";
import { isFile } from "./fs.ts";
import { buildShim } from "./build.ts";
import { findLibtorch, type Libtorch, MISSING_LIBTORCH } from "./libtorch.ts";
import { NATIVE_FILES } from "./native_files.ts";
import { symbols } from "./symbols.ts";

const nativeBase = new URL("../native/", import.meta.url);
const local = nativeBase.protocol === "file:";
const pathOf = (u: URL) => decodeURIComponent(u.pathname);

async function readSources(): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  await Promise.all(NATIVE_FILES.map(async (name) => {
    const url = new URL(name, nativeBase);
    if (local) {
      files.set(name, await Deno.readFile(url));
    } else {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`fetching the native source ${url} failed: ${res.status}`);
      files.set(name, new Uint8Array(await res.arrayBuffer()));
    }
  }));
  return files;
}

async function hashSources(files: Map<string, Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const name of NATIVE_FILES) parts.push(enc.encode(name + "\0"), files.get(name)!);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) all.set(p, (o += p.length) - p.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

const readText = (p: string) => {
  try {
    return Deno.readTextFileSync(p).trim();
  } catch {
    return undefined;
  }
};

/** Where the library came from and what it was built against. */
export interface LibraryInfo {
  path: string;
  libtorch?: Libtorch;
  origin: "env" | "checkout" | "cache" | "built";
}

async function locate(): Promise<LibraryInfo> {
  const explicit = Deno.env.get("DSVA_TORCH_LIB");
  if (explicit) {
    if (!isFile(explicit)) {
      throw new Error(
        `DSVA_TORCH_LIB=${explicit} is not a file; point it at a built libdsva_torch.so or unset it`,
      );
    }
    return { path: explicit, origin: "env" };
  }

  const projectRoot = local ? pathOf(new URL("..", nativeBase)).replace(/\/$/, "") : undefined;
  const torch = findLibtorch(projectRoot);
  if (!torch) throw new Error(MISSING_LIBTORCH);
  const sources = await readSources();
  const key = `${await hashSources(sources)}-${torch.version}`;

  const buildDir = local ? pathOf(new URL("build", nativeBase)) : undefined;
  const stampFile = buildDir && `${buildDir}/dsva_torch.key`;
  if (buildDir && isFile(`${buildDir}/libdsva_torch.so`) && readText(stampFile!) === key) {
    return { path: `${buildDir}/libdsva_torch.so`, libtorch: torch, origin: "checkout" };
  }
  const cached = `${cacheRoot()}/${key}/libdsva_torch.so`;
  if (isFile(cached)) return { path: cached, libtorch: torch, origin: "cache" };

  if (buildDir) {
    const built = await buildShim(pathOf(nativeBase), buildDir, torch);
    Deno.writeTextFileSync(stampFile!, key);
    return { path: built, libtorch: torch, origin: "built" };
  }
  // Imported from a URL: materialize the sources in the cache and build there.
  const dir = `${cacheRoot()}/${key}`;
  for (const [name, bytes] of sources) {
    const file = `${dir}/src/${name}`;
    Deno.mkdirSync(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    Deno.writeFileSync(file, bytes);
  }
  const built = await buildShim(`${dir}/src`, `${dir}/build-${Deno.pid}`, torch);
  Deno.renameSync(built, cached); // atomic: a concurrent loader sees all or nothing
  Deno.removeSync(`${dir}/build-${Deno.pid}`, { recursive: true });
  return { path: cached, libtorch: torch, origin: "built" };
}

/** How the library was found. */
export const libraryInfo: LibraryInfo = await locate();

/** The raw C entry points. */
export const lib = Deno.dlopen(libraryInfo.path, symbols).symbols;

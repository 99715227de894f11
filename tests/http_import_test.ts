/** Importing the library over http, as a user without a checkout would: the
 * repository is served from inside the test, a script in an empty folder (no
 * deno.json, no package.json, no .venv) imports `http://127.0.0.1:<port>/mod.ts`,
 * and the loader must fetch the native sources from the server, build the shim
 * into a fresh cache, load it, and train one step correctly. A second run must
 * reuse that cache without rebuilding.
 *
 * Deno 2.9 notes: `--allow-all` already allows imports from any host, and it
 * refuses to be combined with `--allow-import` ("--allow-all conflicts with
 * --allow-import"), so the runs below list the permissions one by one, with the
 * import and net allowances scoped to the test server. */
import assert from "node:assert/strict";
import { PYTHON, ROOT } from "./helpers.ts";
import { NATIVE_FILES } from "../ffi/native_files.ts";

const TYPES: Record<string, string> = {
  ts: "application/typescript; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
};

/** Copies the repository's files (no dot folders, no native/build) to `to`, so
 * the served tree does not change under the test while someone edits the checkout. */
function snapshot(from: string, to: string, rel = "") {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    const path = `${rel}/${e.name}`;
    if (e.name.startsWith(".") || e.name === "node_modules" || path === "/native/build") continue;
    if (e.isDirectory) snapshot(`${from}/${e.name}`, `${to}/${e.name}`, path);
    else if (e.isFile) Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** A static file server for `root`; records every path requested. */
function serveDir(root: string, requests: string[]) {
  let resolvePort: (p: number) => void;
  const port = new Promise<number>((r) => (resolvePort = r));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => resolvePort(port) },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      try {
        // URL parsing already resolved any "..": the path stays under root.
        const body = await Deno.readFile(root + path);
        const ext = path.slice(path.lastIndexOf(".") + 1);
        return new Response(body, {
          headers: { "content-type": TYPES[ext] ?? "text/plain; charset=utf-8" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return { server, port };
}

const SCRIPT = (base: string) => `
import { torch } from "${base}/mod.ts";
const a = torch.tensor([[1, 2], [3, -4]], { requiresGrad: true });
const b = torch.tensor([[1, -1, 0.5], [2, 1, -1]], { requiresGrad: true });
const loss = torch.relu(a.matmul(b)).sum();
loss.backward();
console.log(JSON.stringify({
  loss: loss.item(),
  aGrad: a.grad!.toArray(),
  bGrad: b.grad!.toArray(),
  origin: torch.library().origin,
  path: torch.library().path,
  version: torch.version(),
}));
`;

// relu(a @ b) = relu([[5, 1, -1.5], [-5, -7, 5.5]]) = [[5, 1, 0], [0, 0, 5.5]]; M is its mask.
const EXPECTED = {
  loss: 11.5,
  aGrad: [[0, 3], [0.5, -1]], // M @ b^T
  bGrad: [[1, 1, 3], [2, 2, -4]], // a^T @ M
};

Deno.test("http import: fetches the native sources, builds them into a fresh cache, and trains", async () => {
  const requests: string[] = [];
  const tmp = await Deno.makeTempDir({ prefix: "dsva_http_" });
  snapshot(ROOT, `${tmp}/site`);
  const { server, port: portPromise } = serveDir(`${tmp}/site`, requests);
  try {
    const port = await portPromise;
    const base = `http://127.0.0.1:${port}`;
    const work = `${tmp}/work`; // no deno.json, package.json or .venv here
    const cache = `${tmp}/torch-cache`;
    await Deno.mkdir(work);
    await Deno.writeTextFile(`${work}/main.ts`, SCRIPT(base));

    const run = async (extra: string[]) => {
      const host = `127.0.0.1:${port}`;
      const started = performance.now();
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-config",
          ...extra,
          `--allow-import=${host}`,
          `--allow-net=${host}`,
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-run",
          "--allow-ffi",
          "main.ts",
        ],
        cwd: work,
        clearEnv: true, // no LIBTORCH / DSVA_TORCH_LIB / VIRTUAL_ENV from the caller
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: tmp,
          NO_COLOR: "1",
          DENO_DIR: `${tmp}/deno-dir`,
          DSVA_TORCH_CACHE: cache,
          DSVA_TORCH_PYTHON: PYTHON,
          // The machine's CA bundle, for any registry fetch behind a TLS proxy.
          ...Object.fromEntries(
            ["SSL_CERT_FILE", "DENO_CERT", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"]
              .flatMap((k) => (Deno.env.get(k) ? [[k, Deno.env.get(k)!]] : [])),
          ),
        },
        stdout: "piped",
        stderr: "piped",
      }).output(); // async: this process must keep serving meanwhile
      const seconds = (performance.now() - started) / 1000;
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert(out.success, `the http-imported script failed (${seconds} s):\n${stderr}\n${stdout}`);
      const lines = stdout.trim().split("\n");
      return { result: JSON.parse(lines[lines.length - 1]), stderr, seconds };
    };

    // First run: nothing cached anywhere, so the loader fetches and builds.
    const first = await run(["--reload"]);
    console.log(`  http import, fetch + build + run: ${first.seconds.toFixed(1)} s`);
    assert.deepEqual(first.result.loss, EXPECTED.loss);
    assert.deepEqual(first.result.aGrad, EXPECTED.aGrad);
    assert.deepEqual(first.result.bGrad, EXPECTED.bGrad);
    assert.deepEqual(first.result.origin, "built");
    assert(first.stderr.includes("building the native shim"), first.stderr);
    for (const name of NATIVE_FILES) {
      assert(requests.includes(`/native/${name}`), `native/${name} was not fetched`);
    }
    assert(!requests.some((p) => p.startsWith("/native/build")), "fetched the checkout's build");

    // The library now lives in the cache, keyed by source hash and libtorch version.
    const lib = first.result.path as string;
    assert(lib.startsWith(`${cache}/`), `library ${lib} is outside the cache ${cache}`);
    assert(lib.endsWith("/libdsva_torch.so"), lib);
    assert(Deno.statSync(lib).isFile);
    const keyDir = lib.slice(0, lib.lastIndexOf("/"));
    assert(
      keyDir.endsWith(`-${first.result.version}`),
      `cache key ${keyDir} lacks the version`,
    );
    for (const name of NATIVE_FILES) {
      assert(Deno.statSync(`${keyDir}/src/${name}`).isFile, `${name} not written to the cache`);
    }
    const leftovers = [...Deno.readDirSync(keyDir)].map((e) => e.name).filter((n) =>
      n.startsWith("build-")
    );
    assert.deepEqual(leftovers, [], "the temporary build folder was left behind");

    // Second run: same cache, no rebuild.
    const second = await run([]);
    console.log(`  http import, cached library: ${second.seconds.toFixed(1)} s`);
    assert.deepEqual(second.result.origin, "cache");
    assert.deepEqual(second.result.path, lib);
    assert.deepEqual(second.result.loss, EXPECTED.loss);
    assert(!second.stderr.includes("building the native shim"), second.stderr);
  } finally {
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});

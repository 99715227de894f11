/** Builds the native shim with CMake, streaming its progress to stderr. */
import { isFile } from "./fs.ts";
import type { Libtorch } from "./libtorch.ts";

const enc = new TextEncoder();
const say = (s: string) => Deno.stderr.writeSync(enc.encode(s));

function need(tool: string, hint: string) {
  if (!has(tool)) {
    throw new Error(`building the native shim needs ${tool}, which is not installed: ${hint}`);
  }
}

async function run(cmd: string, args: string[], log: string[]) {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      const lines = (rest + dec.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        // "[ 50%] Building CXX object ..." is the progress a user wants to see.
        const m = line.match(/^\[\s*(\d+)%\]\s+(.*)$/);
        if (m) say(`  [${m[1].padStart(3)}%] ${m[2].replace(/CMakeFiles\/\S+\.dir\//, "")}\n`);
      }
    }
    if (rest) log.push(rest);
  };
  const [status] = await Promise.all([child.status, pump(child.stdout), pump(child.stderr)]);
  if (!status.success) {
    throw new Error(
      `native build failed: ${cmd} ${args.join(" ")}\n${log.slice(-40).join("\n")}`,
    );
  }
}

/** Configures and builds `sourceDir` into `buildDir`; returns the library path.
 * Uses CMake and Torch's CMake config; where CMake is missing, or that config
 * cannot be used (a CUDA libtorch's config wants the CUDA toolkit, which a
 * machine with only the Python wheel lacks), compiles directly with `c++`;
 * `DSVA_TORCH_BUILD=direct` asks for that. */
export async function buildShim(
  sourceDir: string,
  buildDir: string,
  torch: Libtorch,
): Promise<string> {
  need("c++", "apt-get install g++");
  say(
    `dsva-torch: building the native shim against libtorch ${torch.version} (${torch.origin});` +
      ` this takes about a minute, once.\n`,
  );
  const started = performance.now();
  const log: string[] = [];
  const jobs = Math.max(1, navigator.hardwareConcurrency);
  let built: string;
  if (!has("cmake") || Deno.env.get("DSVA_TORCH_BUILD") === "direct") {
    say("dsva-torch: compiling with c++ directly (no CMake)\n");
    built = await buildDirect(sourceDir, buildDir, torch, jobs, log);
  } else {
    try {
      await run("cmake", [
        "-S",
        sourceDir,
        "-B",
        buildDir,
        `-DCMAKE_PREFIX_PATH=${torch.cmakePrefix}`,
        // A build folder configured before keeps its cached Torch_DIR otherwise.
        `-DTorch_DIR=${torch.cmakePrefix}/Torch`,
        "-DCMAKE_BUILD_TYPE=Release",
      ], log);
      await run("cmake", ["--build", buildDir, "-j", String(jobs)], log);
      built = `${buildDir}/libdsva_torch.so`;
    } catch (e) {
      if (!log.some((l) => l.includes("CMake Error"))) throw e;
      say("dsva-torch: CMake could not use Torch's config; compiling with c++ directly\n");
      built = await buildDirect(sourceDir, buildDir, torch, jobs, log);
    }
  }
  say(`dsva-torch: built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return built;
}

function has(tool: string): boolean {
  try {
    new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}

/** The C++ standard Torch's CMake config sets on its target (20 from torch 2.14 on), else 17:
 * what CMakeLists.txt follows too. */
function cxxStandard(torch: Libtorch): number {
  try {
    const config = Deno.readTextFileSync(`${torch.cmakePrefix}/Torch/TorchConfig.cmake`);
    const std = Number(/CXX_STANDARD\s+(\d+)/.exec(config)?.[1] ?? 17);
    return Math.max(17, std);
  } catch {
    return 17;
  }
}

/** The same build as CMakeLists.txt, with c++ alone. The C++ ABI follows
 * `DSVA_TORCH_CXX11_ABI` (default 1, which every torch 2.x wheel since 2.7 uses). */
async function buildDirect(
  sourceDir: string,
  buildDir: string,
  torch: Libtorch,
  jobs: number,
  log: string[],
): Promise<string> {
  const root = torch.cmakePrefix.replace(/\/share\/cmake\/?$/, "");
  const libDir = `${root}/lib`;
  const abi = Deno.env.get("DSVA_TORCH_CXX11_ABI") ?? "1";
  const objDir = `${buildDir}/direct`;
  Deno.mkdirSync(objDir, { recursive: true });
  const sources = [...Deno.readDirSync(`${sourceDir}/src`)]
    .filter((e) => e.name.endsWith(".cpp"))
    .map((e) => e.name)
    .sort();
  const flags = [
    `-std=c++${cxxStandard(torch)}`,
    "-O2",
    "-fPIC",
    `-D_GLIBCXX_USE_CXX11_ABI=${abi}`,
    `-I${sourceDir}/include`,
    `-I${root}/include`,
    `-I${root}/include/torch/csrc/api/include`,
    ...distributedFlags(root),
  ];
  const queue = [...sources];
  let done = 0;
  const worker = async () => {
    for (let src = queue.shift(); src; src = queue.shift()) {
      await run(
        "c++",
        [...flags, "-c", `${sourceDir}/src/${src}`, "-o", `${objDir}/${src}.o`],
        log,
      );
      say(`  [${String(Math.round((++done / (sources.length + 1)) * 100)).padStart(3)}%] ${src}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, sources.length) }, worker));
  const cudaLibs = ["torch_cuda", "c10_cuda"].filter((l) => isFile(`${libDir}/lib${l}.so`));
  const out = `${buildDir}/libdsva_torch.so`;
  await run("c++", [
    "-shared",
    ...sources.map((s) => `${objDir}/${s}.o`),
    "-o",
    out,
    `-L${libDir}`,
    "-Wl,--no-as-needed",
    "-ltorch",
    "-ltorch_cpu",
    "-lc10",
    ...cudaLibs.map((l) => `-l${l}`),
    "-Wl,--as-needed",
    `-Wl,-rpath,${libDir}`,
    "-Wl,--disable-new-dtags",
  ], log);
  say("  [100%] libdsva_torch.so\n");
  return out;
}

const firstFile = (paths: string[]) => paths.find((p) => isFile(p));
const isDir = (p: string) => {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
};

/** The defines (and include dirs) of native/src/distributed.cpp, as CMakeLists.txt finds
 * them: Gloo where libgloo-dev's headers are, NCCL in a CUDA libtorch where nccl.h and the
 * CUDA runtime headers are (the nvidia-* wheels beside torch, or NCCL_INCLUDE_DIR). */
function distributedFlags(root: string): string[] {
  const flags = ["-DUSE_DISTRIBUTED"];
  const gloo = firstFile(
    [Deno.env.get("GLOO_INCLUDE_DIR"), "/usr/include", "/usr/local/include"]
      .filter((d): d is string => !!d).map((d) => `${d}/gloo/algorithm.h`),
  );
  if (gloo) {
    flags.push(
      "-DUSE_C10D_GLOO",
      "-DDT_HAVE_GLOO",
      `-idirafter${gloo.replace(/\/gloo\/algorithm\.h$/, "")}`,
    );
  } else say("dsva-torch: gloo headers not found (apt-get install libgloo-dev): no Gloo\n");
  if (!isFile(`${root}/lib/libtorch_cuda.so`)) return flags;
  const nv = `${root}/../nvidia`;
  const dirs = [
    Deno.env.get("NCCL_INCLUDE_DIR"),
    `${nv}/nccl/include`,
    `${nv}/cu13/include`,
    `${nv}/cu12/include`,
    `${nv}/cuda_runtime/include`,
    "/usr/local/cuda/include",
    "/usr/include",
  ]
    .filter((d): d is string => !!d);
  const nccl = firstFile(dirs.map((d) => `${d}/nccl.h`));
  const cudart = firstFile(dirs.map((d) => `${d}/cuda_runtime_api.h`));
  if (nccl && cudart) {
    // ProcessGroupNCCL.hpp pulls in ATen/cuda, which includes cuBLAS/cuSPARSE/cuSOLVER headers:
    // every nvidia-* wheel's include dir beside torch, then the toolkit's.
    const wheels = (() => {
      try {
        return [...Deno.readDirSync(nv)].map((e) => `${nv}/${e.name}/include`).sort();
      } catch {
        return [];
      }
    })();
    const inc = [...new Set([nccl, cudart].map((f) => f.slice(0, f.lastIndexOf("/"))))];
    for (const d of [...wheels, "/usr/local/cuda/include"]) {
      if (!inc.includes(d) && isDir(d)) inc.push(d);
    }
    flags.push("-DUSE_C10D_NCCL", "-DDT_HAVE_NCCL", "-DUSE_CUDA", ...inc.map((d) => `-I${d}`));
    say(`dsva-torch: NCCL process group with ${nccl}\n`);
  } else {
    say(
      `dsva-torch: no NCCL process group: ${nccl ? "" : "nccl.h "}${
        cudart ? "" : "cuda_runtime_api.h "
      }not found (the nvidia-nccl / nvidia-cuda-runtime packages)\n`,
    );
  }
  return flags;
}

/** Builds the native shim with CMake, streaming its progress to stderr. */
import type { Libtorch } from "./libtorch.ts";

const enc = new TextEncoder();
const say = (s: string) => Deno.stderr.writeSync(enc.encode(s));

function need(tool: string, hint: string) {
  try {
    new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
  } catch {
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

/** Configures and builds `sourceDir` into `buildDir`; returns the library path. */
export async function buildShim(
  sourceDir: string,
  buildDir: string,
  torch: Libtorch,
): Promise<string> {
  need("cmake", "apt-get install cmake (or pip install cmake)");
  need("c++", "apt-get install g++");
  say(
    `dsva-torch: building the native shim against libtorch ${torch.version} (${torch.origin});` +
      ` this takes about a minute, once.\n`,
  );
  const started = performance.now();
  const log: string[] = [];
  await run("cmake", [
    "-S",
    sourceDir,
    "-B",
    buildDir,
    `-DCMAKE_PREFIX_PATH=${torch.cmakePrefix}`,
    "-DCMAKE_BUILD_TYPE=Release",
  ], log);
  const jobs = String(Math.max(1, navigator.hardwareConcurrency));
  await run("cmake", ["--build", buildDir, "-j", jobs], log);
  say(`dsva-torch: built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return `${buildDir}/libdsva_torch.so`;
}

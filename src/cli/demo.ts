/** `deno task demo`: a short tour of the tensor layer (the first command until the main
 * training job exists). Loads (building on first use) the native shim, prints the runtime,
 * runs `relu(a @ b).sum().backward()`, checks the gradient against a hand computation, and
 * ends with one JSON line of figures; exit status 1 when the check fails.
 * @module
 */
import { Command } from "npm:commander@^15";
import { parseOrExit, runCommand } from "./task_exit.ts";

/** Runs `deno task demo` (it takes no options but `--help`). */
export async function main(argv: readonly string[]): Promise<void> {
  await runCommand("demo", argv, demo);
}

async function demo(argv: readonly string[]): Promise<void> {
  parseOrExit(
    "demo",
    new Command("deno task demo")
      .description("A short tour of the tensor layer: relu(a @ b).sum().backward(), checked.")
      .helpOption("-h, --help", "show this help")
      .exitOverride(),
    argv,
  );
  const started = performance.now();
  // Imported dynamically to time loading the library (and building it, the first time).
  const { torch } = await import("../../mod.ts");
  const loadMs = performance.now() - started;
  const lib = torch.library();

  console.log(`libtorch     ${torch.version()}  (shim: ${lib.origin}, ${lib.path})`);
  console.log(`threads      ${torch.getNumThreads()}`);
  const cudaAvailable = torch.cuda.isAvailable();
  console.log(
    `cuda         ${
      cudaAvailable
        ? `${torch.cuda.deviceCount()} device(s), ${torch.cuda.deviceName(0)}`
        : "not available"
    }`,
  );

  torch.manualSeed(0);
  const baseline = torch.memory().liveTensors;

  // relu(a @ b).sum().backward(): `a` and `b` outlive the scope, the intermediates do not.
  const a = torch.randn([3, 4], { requiresGrad: true });
  const b = torch.randn([4, 2], { requiresGrad: true });
  const loss = torch.scope(() => {
    const out = a.matmul(b).relu();
    console.log("\nrelu(a @ b) =");
    console.log(out.toString());
    const l = out.sum();
    l.backward();
    return l.item();
  });
  console.log(`\nloss = relu(a @ b).sum() = ${loss.toFixed(6)}`);
  console.log("\na.grad =");
  console.log(a.grad!.toString());
  console.log("\nb.grad =");
  console.log(b.grad!.toString());

  // The same gradient by hand: dL/da = mask @ bᵀ, dL/db = aᵀ @ mask, mask = (a @ b > 0).
  const A = a.toArray() as number[][];
  const B = b.toArray() as number[][];
  const mask: number[][] = A.map((row) =>
    B[0].map((_, j) => (row.reduce((s, x, k) => s + x * B[k][j], 0) > 0 ? 1 : 0))
  );
  const gradA = A.map((row, i) =>
    row.map((_, k) => mask[i].reduce((s, m, j) => s + m * B[k][j], 0))
  );
  const gradB = B.map((row, k) =>
    row.map((_, j) => A.reduce((s, r, i) => s + r[k] * mask[i][j], 0))
  );
  const maxDiff = (x: number[][], y: number[][]) =>
    Math.max(...x.flatMap((row, i) => row.map((v, j) => Math.abs(v - y[i][j]))));
  const gradDiff = Math.max(
    maxDiff(a.grad!.toArray() as number[][], gradA),
    maxDiff(b.grad!.toArray() as number[][], gradB),
  );
  console.log(`\ngradient vs. hand computation: max |diff| = ${gradDiff.toExponential(2)}`);

  const during = torch.memory();
  console.log("\ntorch.memory() =", during);
  a.dispose();
  b.dispose();
  const after = torch.memory();
  console.log("after disposing a and b:", after);

  const ok = gradDiff < 1e-5 && after.liveTensors === baseline;
  console.log(JSON.stringify({
    libtorch: torch.version(),
    threads: torch.getNumThreads(),
    cuda: cudaAvailable,
    loss: Number(loss.toFixed(6)),
    gradMaxAbsDiff: gradDiff,
    liveTensors: during.liveTensors,
    liveTensorsAfter: after.liveTensors,
    loadMs: Math.round(loadMs),
    totalMs: Math.round(performance.now() - started),
    ok,
  }));
  if (!ok) Deno.exit(1);
}

/** Shared pieces of the Deno-vs-Python benches: the long-lived Python baseline
 * process (one JSON request per line in, one JSON result per line out), medians,
 * and this thread's run-queue wait (how long it waited for a core). */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The median of `xs`. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The median of the non-null entries, NaN when there are none. */
export const medianOf = (xs: readonly (number | null)[]): number => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? median(v) : NaN;
};

/** Nanoseconds this thread has waited on a run queue (Linux schedstat), or null. */
export function runQueueNs(): number | null {
  try {
    return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[1]);
  } catch {
    return null;
  }
}

/** Non-empty lines of a byte stream. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const p of parts) if (p.trim()) yield p;
  }
  if (rest.trim()) yield rest;
}

/** A `bench/<script>` Python process serving JSON requests over a pipe, so that
 * `import torch` is paid once. */
export class PythonBaseline {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #enc = new TextEncoder();

  constructor(
    python: string,
    script: string,
    readonly name: string,
    env: Record<string, string> = {},
  ) {
    this.#child = new Deno.Command(python, {
      args: ["-u", `${ROOT}/bench/${script}`],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env,
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = lines(this.#child.stdout)[Symbol.asyncIterator]();
  }
  async next<T>(): Promise<T> {
    const r = await this.#lines.next();
    if (r.done) {
      throw new Error(`${this.name}: the Python baseline exited early (see stderr above)`);
    }
    return JSON.parse(r.value) as T;
  }
  async request<T>(req: Record<string, unknown>): Promise<T> {
    await this.#writer.write(this.#enc.encode(JSON.stringify(req) + "\n"));
    return await this.next<T>();
  }
  async close() {
    try {
      await this.#writer.write(this.#enc.encode('{"quit":true}\n'));
      await this.#writer.close();
    } catch {
      // already gone
    }
    await this.#child.status;
  }
}

/**
 * The one SIGINT / SIGTERM path of every command with a loop (train, experiments, CLIP
 * fine-tuning): the first signal asks the loop to stop at its next safe point (the loop polls
 * `token.reason()`, e.g. between steps, and saves a checkpoint); a second one ends the process
 * at once with the signal's exit status (130 / 143).
 */

/** Exit status of a process stopped by `sig`, as shells report it (128 + signal number). */
export function signalExitCode(sig: string | null | undefined): number {
  return sig === "SIGTERM" ? 143 : 130;
}

/** A stop request raised by a signal. */
export interface StopToken {
  /** The signal that asked to stop (`"SIGINT"` / `"SIGTERM"`), or null. */
  reason(): Deno.Signal | null;
  /** Calls `f` at every signal from now on (`first`: the first one), e.g. to pass it on to a
   * child process; returns what stops calling it. */
  onSignal(f: (sig: Deno.Signal, first: boolean) => void): () => void;
  /** Removes the signal handlers (idempotent). */
  dispose(): void;
  [Symbol.dispose](): void;
}

/** What the command says and does on each signal. */
export interface StopOptions {
  /** Printed (to stderr) at the first signal; default: "saving a checkpoint after this step". */
  firstMessage?: string;
  /** Said at a second signal while a listener ({@link StopToken.onSignal}) passes the signals
   * on, e.g. to a child process, which then decides; the process stays alive. Without it, or
   * with no listener, a second signal exits at once. */
  secondMessage?: string;
}

/** Installs SIGINT / SIGTERM handlers and returns the token loops poll. */
export function stopOnSignals(opts: StopOptions = {}): StopToken {
  let reason: Deno.Signal | null = null;
  const listeners = new Set<(sig: Deno.Signal, first: boolean) => void>();
  const handlers: [Deno.Signal, () => void][] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const f = () => {
      const first = reason === null;
      for (const l of listeners) l(sig, first);
      if (!first) {
        if (opts.secondMessage && listeners.size > 0) {
          return console.error(`\n${sig} again: ${opts.secondMessage}`);
        }
        console.error(`\n${sig} again: exiting without a checkpoint`);
        Deno.exit(signalExitCode(sig));
      }
      reason = sig;
      console.error(
        `\n${sig}: ${
          opts.firstMessage ?? "saving a checkpoint after this step"
        } (again to exit at once)`,
      );
    };
    try {
      Deno.addSignalListener(sig, f);
      handlers.push([sig, f]);
    } catch { /* signals not supported on this platform */ }
  }
  const dispose = () => {
    for (const [s, f] of handlers.splice(0)) Deno.removeSignalListener(s, f);
  };
  return {
    reason: () => reason,
    onSignal(f) {
      listeners.add(f);
      return () => listeners.delete(f);
    },
    dispose,
    [Symbol.dispose]: dispose,
  };
}

/** A one-line progress bar on a terminal (step, epoch, loss, images/s, ETA); on anything else
 * (a pipe, a file, CI) it draws nothing and only the lines passed to `log` are printed. */

/** What the bar shows. */
export interface ProgressState {
  /** Steps done in total, and the total. */
  step: number;
  totalSteps: number;
  /** 0-based epoch and the epoch count. */
  epoch: number;
  epochs: number;
  /** Smoothed training loss. */
  loss: number;
  /** Training images per second (recent). */
  imagesPerSecond: number;
  /** Seconds left, or null when unknown. */
  etaSeconds: number | null;
}

const enc = new TextEncoder();

/** Minutes:seconds (or h:mm:ss). */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "--:--";
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, "0"), ss = String(sec).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The progress display. */
export class Progress {
  /** Whether a bar is drawn (stderr is a terminal and not disabled). */
  readonly tty: boolean;
  #drawn = false;
  #last = 0;

  constructor(opts: { tty?: boolean } = {}) {
    this.tty = opts.tty ?? (Deno.stderr.isTerminal() && !Deno.env.get("NO_PROGRESS"));
  }

  /** Redraws the bar (at most 10 times a second). */
  update(s: ProgressState, force = false): void {
    if (!this.tty) return;
    const now = performance.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    let cols = 100;
    try {
      cols = Deno.consoleSize().columns;
    } catch { /* not a console after all */ }
    if (!(cols >= 20)) cols = 100; // a pseudo-terminal may report 0
    const frac = s.totalSteps > 0 ? Math.min(1, s.step / s.totalSteps) : 0;
    const text = `step ${s.step}/${s.totalSteps} · epoch ${s.epoch + 1}/${s.epochs} · loss ${
      Number.isFinite(s.loss) ? s.loss.toFixed(4) : "–"
    } · ${s.imagesPerSecond.toFixed(s.imagesPerSecond >= 100 ? 0 : 1)} img/s · ETA ${
      formatDuration(s.etaSeconds ?? NaN)
    }`;
    const room = cols - 1 - text.length - 8; // "[bar] 100% "
    const width = Math.min(30, room);
    const bar = width >= 5
      ? `[${"█".repeat(Math.round(frac * width))}${"░".repeat(width - Math.round(frac * width))}] ${
        (frac * 100).toFixed(0).padStart(3)
      }% `
      : "";
    Deno.stderr.writeSync(enc.encode(`\r\x1b[2K${(bar + text).slice(0, cols - 1)}`));
    this.#drawn = true;
  }

  /** Removes the bar (before other output). */
  clear(): void {
    if (this.#drawn) {
      Deno.stderr.writeSync(enc.encode("\r\x1b[2K"));
      this.#drawn = false;
    }
  }

  /** Prints a line to stdout above the bar. */
  log(line: string): void {
    this.clear();
    console.log(line);
  }
}

/** A run's metrics log: one JSON object a line, appended as training goes, cut back to the
 * checkpoint when a run resumes. The DSVA trainer and CLIP fine-tuning write theirs with it. */

const enc = new TextEncoder();

/** What every line of a metrics log says: the steps done when it was written and the epoch.
 * A line with `"type": "epoch"` sums up a finished epoch. */
export interface LoggedRecord {
  type?: string;
  step: number;
  epoch: number;
}

/** A JSON-lines metrics file of a run (`metrics.jsonl` of `deno task train`, `log.jsonl` of
 * `deno task clip:finetune`), appended as training goes: the counterpart of a
 * `torch.utils.tensorboard.SummaryWriter` in plain text. */
export class MetricsLog<R extends LoggedRecord = LoggedRecord> {
  /** The log at `path` (created by the first append). */
  constructor(readonly path: string) {}

  /** Appends one record (synchronously: a line is on disk before the next step). */
  append(r: R): void {
    Deno.writeFileSync(this.path, enc.encode(JSON.stringify(r) + "\n"), { append: true });
  }

  /** Every record in the file (an unparseable last line, from a crash mid-write, is dropped). */
  read(): R[] {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch {
      return [];
    }
    const out: R[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch { /* a torn last line */ }
    }
    return out;
  }

  /** Drops what was logged after a checkpoint (lines past `step`; epoch summaries from epoch
   * `epochsDone` on), so a resumed run's log has each step once. Rewritten atomically. */
  truncateTo(step: number, epochsDone: number): void {
    const keep = this.read().filter((r) =>
      r.type === "epoch" ? r.epoch < epochsDone : r.step <= step
    );
    const tmp = `${this.path}.tmp-${Deno.pid}`;
    Deno.writeTextFileSync(tmp, keep.map((r) => JSON.stringify(r) + "\n").join(""));
    Deno.renameSync(tmp, this.path);
  }
}

/** `metrics.jsonl`: one JSON object a line, one per training step (`"type": "step"`) and one per
 * evaluated epoch (`"type": "epoch"`), appended as training goes. */

/** One step's record. */
export interface StepRecord {
  type: "step";
  /** Optimizer steps done after this one (1-based). */
  step: number;
  epoch: number;
  batch: number;
  /** Total loss and each unweighted term. */
  loss: number;
  terms: Record<string, number>;
  /** Each parameter group's learning rate. */
  lr: number[];
  /** Training images per second over this step (data wait included). */
  imagesPerSecond: number;
  /** Seconds since the run started (resumes included). */
  time: number;
}

/** One evaluated epoch's record. Accuracies are fractions. */
export interface EpochRecord {
  type: "epoch";
  epoch: number;
  step: number;
  /** Mean training loss over the epoch's steps. */
  trainLoss: number;
  /** Held-out seen accuracy (VAM branch, seen candidates). */
  heldoutSeenAcc: number | null;
  /** Test results of the VAM branch (monitoring; selection only with `official`). */
  test: { zsl: number; S: number; U: number; H: number; gamma: number; ausuc: number } | null;
  /** The selection score and whether this epoch is the best so far. */
  selectionScore: number;
  best: boolean;
  time: number;
  /** Seconds this epoch's evaluation took. */
  evalSeconds: number;
}

/** A record of either kind. */
export type MetricsRecord = StepRecord | EpochRecord;

const enc = new TextEncoder();

/** Appends records to a metrics file. */
export class MetricsLog {
  constructor(readonly path: string) {}

  /** Appends one record. */
  append(r: MetricsRecord): void {
    Deno.writeFileSync(this.path, enc.encode(JSON.stringify(r) + "\n"), { append: true });
  }

  /** Every record in the file (an unparseable last line, from a crash mid-write, is dropped). */
  read(): MetricsRecord[] {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch {
      return [];
    }
    const out: MetricsRecord[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch { /* a torn last line */ }
    }
    return out;
  }

  /** Drops what was logged after a checkpoint (steps after `step`, epochs from `epochsDone`), so a
   * resumed run's log has each step once. Rewritten atomically. */
  truncateTo(step: number, epochsDone: number): void {
    const keep = this.read().filter((r) =>
      r.type === "step" ? r.step <= step : r.epoch < epochsDone
    );
    const tmp = `${this.path}.tmp-${Deno.pid}`;
    Deno.writeTextFileSync(tmp, keep.map((r) => JSON.stringify(r) + "\n").join(""));
    Deno.renameSync(tmp, this.path);
  }
}

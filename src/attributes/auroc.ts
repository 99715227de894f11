/** How well a collected class × attribute matrix recovers known attributes: per attribute, the
 * AUROC over classes of the collected values against the true presence (the probability that a
 * class having the attribute scores above one lacking it, ties counting half). */

/** AUROC of `scores` against 0/1 `labels`; null when one side is empty. */
export function auroc(scores: readonly number[], labels: readonly boolean[]): number | null {
  const pos: number[] = [], neg: number[] = [];
  scores.forEach((s, i) => (labels[i] ? pos : neg).push(s));
  if (pos.length === 0 || neg.length === 0) return null;
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

/** Per-attribute AUROC (over the classes, rows) of `matrix` against `truth` (both C × K, row
 * major arrays of rows) and their mean over the attributes where it is defined. `truth` is
 * read as present where > `threshold` (default: halfway between its smallest and largest
 * value, i.e. 0.5 for 0/1 attributes). */
export function attributeAuroc(
  matrix: readonly (readonly number[])[],
  truth: readonly (readonly number[])[],
  threshold?: number,
): { perAttribute: (number | null)[]; mean: number | null } {
  if (matrix.length !== truth.length || matrix.length === 0) {
    throw new RangeError(
      `attributeAuroc: ${matrix.length} collected rows, ${truth.length} true rows`,
    );
  }
  const k = matrix[0].length;
  if (truth[0].length !== k) {
    throw new RangeError(`attributeAuroc: ${k} collected columns, ${truth[0].length} true ones`);
  }
  const flat = truth.flat();
  const thr = threshold ?? (Math.min(...flat) + Math.max(...flat)) / 2;
  const perAttribute = Array.from({ length: k }, (_, a) =>
    auroc(
      matrix.map((r) => r[a]),
      truth.map((r) => r[a] > thr),
    ));
  const defined = perAttribute.filter((x): x is number => x !== null);
  return {
    perAttribute,
    mean: defined.length ? defined.reduce((s, x) => s + x, 0) / defined.length : null,
  };
}

/** Ordered concurrent mapping with a bound on work held ahead of the consumer. */

/** Options for {@link mapOrdered}. */
export interface MapOrderedOptions {
  /** Calls of `fn` running at once (≥ 1). */
  concurrency: number;
  /** Results started but not yet taken by the consumer, in-flight ones included (≥ concurrency
   * is useful; smaller caps concurrency). */
  window: number;
}

/**
 * Yields `fn(item, i)` for each item in input order while running up to `concurrency` calls at
 * once and never holding more than `window` started-but-unconsumed results. The first failure
 * is thrown at its place in the order; nothing new starts after it.
 */
export async function* mapOrdered<T, U>(
  items: Iterable<T>,
  fn: (item: T, index: number) => Promise<U>,
  opts: MapOrderedOptions,
): AsyncGenerator<U> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  const window = Math.max(1, Math.floor(opts.window));
  const it = items[Symbol.iterator]();
  const queue: Promise<U>[] = [];
  let inFlight = 0, index = 0, exhausted = false, stopped = false;
  const fill = () => {
    while (!stopped && !exhausted && queue.length < window && inFlight < concurrency) {
      const n = it.next();
      if (n.done) {
        exhausted = true;
        break;
      }
      inFlight++;
      const p = fn(n.value, index++);
      const settle = () => {
        inFlight--;
        fill();
      };
      p.then(settle, () => {
        stopped = true;
        settle();
      });
      queue.push(p);
    }
  };
  try {
    fill();
    while (queue.length > 0) {
      const v = await queue[0];
      queue.shift();
      fill();
      yield v;
    }
  } finally {
    stopped = true;
  }
}

/**
 * Alternative seen/unseen splits of the synthetic scenes, for robustness across splits. The
 * generated data has one split (`12_4`); `12_4-alt<N>` re-draws which 4 classes are unseen (seeded
 * by N), keeping the rule that made the default split sensible: every attribute of an unseen class
 * appears in some seen class. Seen classes keep the generator's 80/20 train/test partition (the
 * same permutation rule for a class that was unseen in the default split); an unseen class's
 * images are all test images.
 * @module
 */
import { Rng } from "../data/rng.ts";
import { SCENE_CLASSES } from "../data/synthetic/vocabulary.ts";
import { SYNTHETIC_SPLIT } from "../data/synthetic/generate.ts";
import { ExperimentConfigError } from "./config.ts";

const ALT = new RegExp(`^${SYNTHETIC_SPLIT}-alt([1-9][0-9]*)$`);

/** Whether `name` is a split the synthetic scenes can give (the default or an alternative). */
export function isSyntheticSplit(name: string): boolean {
  return name === SYNTHETIC_SPLIT || ALT.test(name);
}

/** The unseen classes of alternative split `n` (1, 2, ...): 4 classes drawn by a seeded
 * permutation, the first draw that covers its attributes with seen ones and differs from the
 * default split and from every earlier alternative. */
export function alternativeUnseen(n: number): string[] {
  const names = SCENE_CLASSES.map((c) => c.name);
  const u = SCENE_CLASSES.filter((c) => c.unseen).length;
  const taken = [SCENE_CLASSES.filter((c) => c.unseen).map((c) => c.name).sort().join()];
  let found: string[] = [];
  for (let alt = 1; alt <= n; alt++) {
    for (let tries = 0;; tries++) {
      if (tries > 10_000) throw new Error(`no alternative synthetic split ${alt}`);
      const order = new Rng(0x5a17, alt, tries).permutation(names.length);
      const unseen = new Set(order.slice(0, u));
      const seenAttrs = new Set(
        SCENE_CLASSES.filter((_, i) => !unseen.has(i)).flatMap((c) => c.attributes),
      );
      const covered = [...unseen].every((i) =>
        SCENE_CLASSES[i].attributes.every((a) => seenAttrs.has(a))
      );
      const key = [...unseen].map((i) => names[i]).sort().join();
      if (covered && !taken.includes(key)) {
        taken.push(key);
        found = [...unseen].sort((a, b) => a - b).map((i) => names[i]);
        break;
      }
    }
  }
  return found;
}

interface SplitJson {
  classes?: string[];
  seed?: number;
  splits: Record<
    string,
    {
      seen: string[];
      unseen: string[];
      trainval: string[];
      test_seen: string[];
      test_unseen: string[];
    }
  >;
}

/** Writes a split file holding the synthetic dataset's default split and the alternatives named
 * in `splits` (only when its content changes). `dir` is the generated dataset folder. */
export async function writeSyntheticSplits(
  dir: string,
  splits: readonly string[],
  out: string,
): Promise<void> {
  const src = JSON.parse(await Deno.readTextFile(`${dir}/splits.json`)) as SplitJson;
  const def = src.splits[SYNTHETIC_SPLIT];
  if (!def) throw new Error(`${dir}/splits.json has no split ${SYNTHETIC_SPLIT}`);
  const seed = src.seed ?? 0;
  const byClass = new Map<string, string[]>();
  for (const f of [...def.trainval, ...def.test_seen, ...def.test_unseen]) {
    const c = f.split("/")[0];
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(f);
  }
  for (const list of byClass.values()) list.sort();
  const tv = new Set(def.trainval);
  const result: SplitJson = { classes: src.classes, seed, splits: { [SYNTHETIC_SPLIT]: def } };
  for (const name of splits) {
    if (name === SYNTHETIC_SPLIT) continue;
    const m = ALT.exec(name);
    if (!m) {
      throw new ExperimentConfigError(
        `datasets: the synthetic scenes have the split ${SYNTHETIC_SPLIT} and alternatives ` +
          `${SYNTHETIC_SPLIT}-alt1, -alt2, ...; not "${name}"`,
      );
    }
    const unseen = alternativeUnseen(Number(m[1]));
    const unseenSet = new Set(unseen);
    const seen = SCENE_CLASSES.map((c) => c.name).filter((c) => !unseenSet.has(c));
    const trainval: string[] = [], testSeen: string[] = [], testUnseen: string[] = [];
    for (const [ci, cls] of SCENE_CLASSES.entries()) {
      const files = byClass.get(cls.name) ?? [];
      if (unseenSet.has(cls.name)) {
        testUnseen.push(...files);
      } else if (!cls.unseen) {
        for (const f of files) (tv.has(f) ? trainval : testSeen).push(f);
      } else {
        // The generator's rule (src/data/synthetic/generate.ts) for a seen class.
        const order = new Rng(seed, ci, 0x5917).permutation(files.length);
        const k = Math.round(files.length * 0.8);
        order.forEach((o, r) => (r < k ? trainval : testSeen).push(files[o]));
      }
    }
    result.splits[name] = {
      seen,
      unseen,
      trainval: trainval.sort(),
      test_seen: testSeen.sort(),
      test_unseen: testUnseen.sort(),
    };
  }
  const text = JSON.stringify(result, null, 1) + "\n";
  try {
    if ((await Deno.readTextFile(out)) === text) return;
  } catch { /* absent */ }
  await Deno.mkdir(out.replace(/\/[^/]*$/, ""), { recursive: true });
  const tmp = `${out}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, out);
}

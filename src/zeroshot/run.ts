/** One zero-shot classification of a split's images by a CLIP: class texts (readable names or
 * aliases) × templates, embeddings through the cache, class probabilities, and both protocols
 * (all classes; ZSL / GZSL of the split). Used by `deno task zeroshot`, `clip:demo` and the
 * baseline row of a DSVA run whose backbone is a CLIP. */
import type { Device } from "../tensor/index.ts";
import type { Sample } from "../data/loader.ts";
import type { TrainData } from "../train/data.ts";
import type { EncodeAutocast } from "../attributes/collect.ts";
import { type ClipSourceLike, clipWeightsHash } from "./load.ts";
import { type CacheState, zeroShotEmbeddings } from "./embed.ts";
import { type ClassAliases, classTexts } from "./names.ts";
import {
  allClassAccuracy,
  type AllClassResult,
  classProbabilities,
  type ScoredImages,
  selectRows,
  splitAccuracy,
  type SplitResult,
} from "./protocols.ts";
import { REMOTE_SENSING_TEMPLATES } from "./prompts.ts";

/** What to classify and how. */
export interface ZeroShotOptions {
  /** The CLIP (a folder or file, with optional format / activation / tokenizer; see
   * `loadClip`). */
  model: ClipSourceLike;
  data: TrainData;
  /** Prompt templates (default the built-in remote-sensing set). */
  templates?: readonly string[];
  aliases?: ClassAliases;
  /** Calibrated-stacking γ of the GZSL numbers (default 0). */
  gamma?: number;
  /** The all-class protocol on every image of the split's lists (training images too), as the
   * published all-class numbers are measured; default the test images only. */
  allImages?: boolean;
  /** At most this many images per class from each list (first ones in list order). */
  limit?: number | null;
  device?: Device;
  batchSize?: number;
  /** Encode under bf16 autocast (`bf16`) or in float32 (`none`, the default). */
  autocast?: EncodeAutocast;
  useCache?: boolean;
  log?: (line: string) => void;
}

/** The results and what they came from. */
export interface ZeroShotOutcome {
  split: SplitResult;
  allClasses: AllClassResult;
  /** The text of every class in the prompts. */
  classTexts: string[];
  templates: readonly string[];
  /** SHA-256 of the CLIP's files. */
  weightsHash: string;
  /** exp(logit_scale). */
  scale: number;
  cache: { images: CacheState; text: CacheState };
  encoded: { images: number; texts: number };
  /** The GZSL test images scored (test-seen then test-unseen). */
  test: ScoredImages;
  images: { testSeen: number; testUnseen: number; allClass: number };
  seconds: number;
}

/** The first `limit` samples of each class, in order. */
export function limitPerClass(samples: readonly Sample[], limit: number | null | undefined) {
  if (!limit) return [...samples];
  const seen = new Map<number, number>();
  return samples.filter((s) => {
    const k = seen.get(s.label) ?? 0;
    seen.set(s.label, k + 1);
    return k < limit;
  });
}

/** Classifies the split's test images (and, with `allImages`, every image of its lists). */
export async function runZeroShot(o: ZeroShotOptions): Promise<ZeroShotOutcome> {
  const t0 = performance.now();
  const d = o.data;
  const templates = o.templates ?? REMOTE_SENSING_TEMPLATES;
  const testSeen = limitPerClass(d.testSeen, o.limit);
  const testUnseen = limitPerClass(d.testUnseen, o.limit);
  const test = [...testSeen, ...testUnseen];
  let samples = test;
  if (o.allImages) {
    const have = new Set(test.map((s) => s.path));
    const rest = limitPerClass([...d.train, ...d.heldout], o.limit).filter((s) =>
      !have.has(s.path)
    );
    samples = [...test, ...rest];
  }
  const texts = classTexts(d.classes, o.aliases);
  const weightsHash = await clipWeightsHash(o.model);
  const e = await zeroShotEmbeddings({
    model: o.model,
    weightsHash,
    samples,
    classTexts: texts,
    templates,
    device: o.device,
    batchSize: o.batchSize,
    autocast: o.autocast,
    useCache: o.useCache,
    log: o.log,
  });
  try {
    const scored: ScoredImages = {
      n: samples.length,
      c: d.classes.length,
      labels: Int32Array.from(samples, (s) => s.label),
      probs: classProbabilities(e.images, e.text, e.scale),
    };
    const testSet = selectRows(scored, test.map((_, i) => i));
    const gamma = o.gamma === undefined ? undefined : { gamma: o.gamma, rule: "given" };
    return {
      split: splitAccuracy(testSet, d.seen, d.unseen, gamma),
      allClasses: allClassAccuracy(o.allImages ? scored : testSet),
      classTexts: texts,
      templates,
      weightsHash,
      scale: e.scale,
      cache: e.cache,
      encoded: e.encoded,
      test: testSet,
      images: {
        testSeen: testSeen.length,
        testUnseen: testUnseen.length,
        allClass: o.allImages ? samples.length : test.length,
      },
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    e.images.dispose();
    e.text.dispose();
  }
}

/** The CLIP zero-shot baseline of a DSVA run: when the run's backbone is a CLIP with a text
 * tower, that CLIP's prompt zero-shot numbers on the same split's test images, for the run's
 * `eval.json`, `eval.md` and `report.html`. */
import type { TrainConfig } from "../config/types.ts";
import type { TrainData } from "../train/data.ts";
import type { Device } from "../tensor/index.ts";
import { isFile } from "../../ffi/fs.ts";
import { hasTextTower } from "./load.ts";
import { runZeroShot } from "./run.ts";
import { ZEROSHOT_ROW } from "./report.ts";

/** The baseline's numbers (fractions), as one row of the run's results. */
export interface ClipBaseline {
  branch: string;
  model: string;
  zsl: number;
  S: number;
  U: number;
  H: number;
  ausuc: number;
  gamma: number;
  gammaRule: string;
  allClasses: { top1: number; meanPerClass: number };
  templates: number;
}

/** The zero-shot numbers of the run's CLIP backbone on its split, or null when the backbone is
 * not a CLIP with a text tower and a tokenizer (then there is nothing to compare with). */
export async function clipZeroShotBaseline(
  config: TrainConfig,
  data: TrainData,
  log: (line: string) => void = console.log,
): Promise<ClipBaseline | null> {
  const b = config.backbone;
  if (b.kind !== "clip") return null;
  const model = b.dir;
  const source = { path: model, format: b.format, activation: b.activation };
  if (!hasTextTower(source)) {
    if (isFile(model)) {
      log(
        `CLIP zero-shot baseline: none (no tokenizer beside ${model}; put its tokenizer.json ` +
          "or bpe_simple_vocab_16e6.txt.gz there for the baseline row)",
      );
    }
    return null;
  }
  log(`CLIP zero-shot baseline: ${model} on the same split ...`);
  const z = await runZeroShot({ model: source, data, device: config.device as Device, log });
  const s = z.split;
  return {
    branch: `${ZEROSHOT_ROW}, baseline`,
    model,
    zsl: s.zsl,
    S: s.gzsl.S,
    U: s.gzsl.U,
    H: s.gzsl.H,
    ausuc: s.ausuc,
    gamma: s.gzsl.gamma,
    gammaRule: s.gzsl.gammaRule,
    allClasses: { top1: z.allClasses.top1, meanPerClass: z.allClasses.meanPerClass },
    templates: z.templates.length,
  };
}

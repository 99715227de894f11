/** `deno task bench <name> [options]`: runs one benchmark suite.
 *
 * Each suite is a module exporting `run(args)`; add new ones to `SUITES`. */

import { Command } from "npm:commander@^15";
import { failTask, parseOrExit } from "../src/cli/task_exit.ts";

interface Suite {
  describe: string;
  load: () => Promise<{ run(args: string[]): Promise<void> }>;
}

const SUITES: Record<string, Suite> = {
  ops: {
    describe: "tiny add and 512x512 matmul+relu+sum fwd+bwd, Deno vs Python torch",
    load: () => import("./ops.ts"),
  },
  data: {
    describe: "decode + augment images/s at 224x224 on AID, ImageLoader vs PyTorch DataLoader",
    load: () => import("./data.ts"),
  },
  vit: {
    describe: "ViT-B/32 fwd+bwd images/s, batch 8 at 224x224, Deno vs transformers CLIPVisionModel",
    load: () => import("./vit.ts"),
  },
  clip: {
    describe: "tiny CLIP contrastive fine-tuning step images/s, Deno vs transformers CLIPModel",
    load: () => import("./clip.ts"),
  },
  zeroshot: {
    describe: "CLIP image encoding images/s (zero-shot), loadClip + CLIPModel vs transformers " +
      "on the same weights",
    load: () => import("./zeroshot.ts"),
  },
  ddp: {
    describe: "data-parallel DSVA training steps/s, 1 process × 2 threads vs 2 ranks × 1 thread;" +
      " gradient all-reduce ms per step, our DDP vs PyTorch DDP (gloo, 25 MiB buckets)",
    load: () => import("./ddp.ts"),
  },
  train: {
    describe: "DSVA training step images/s (default run's model + batch), Deno vs PyTorch eager;" +
      " --memory: live tensors + RSS over --steps (2000)",
    load: () => {
      // libgomp reads it when libtorch is loaded (as scripts/train.ts sets it), so before import.
      if (!Deno.env.get("OMP_WAIT_POLICY")) Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
      return import("./train.ts");
    },
  },
};

const prog = new Command("deno task bench")
  .description("Run one benchmark suite (`deno task bench <suite> --help` lists its options).")
  .argument("<suite>", Object.keys(SUITES).join(", "))
  .argument("[options...]", "the suite's options")
  .passThroughOptions()
  .helpOption("-h, --help", "show this help")
  .addHelpText(
    "after",
    "\nSuites:\n" +
      Object.entries(SUITES).map(([k, s]) => `  ${k.padEnd(8)} ${s.describe}`).join("\n"),
  )
  .exitOverride();
parseOrExit("bench", prog, Deno.args);
const [name, ...rest] = prog.args;
const suite = SUITES[name];
if (!suite) {
  console.error(prog.helpInformation());
  failTask("bench", 2, `unknown bench suite '${name}'`);
}
await (await suite.load()).run(rest);

/**
 * The commands: one file per `deno task`, each exporting `main(argv)`, which `scripts/<task>.ts`
 * calls as a one-line shim. Every command parses its flags with commander (the training-config
 * flags come from the table in `src/config/flags.ts`), ends on bad input through the one error
 * exit (`task_exit.ts`: a one-line message, exit 1, or 2 for usage errors), and, when it loops,
 * polls the one SIGINT/SIGTERM stop token (`stop.ts`). Library code never imports this folder.
 * @module
 */

/** Each task's entry file in this folder, by task name (as `deno.json` names the task). */
export const COMMANDS: Readonly<Record<string, string>> = {
  train: "train_main.ts",
  eval: "eval_main.ts",
  viz: "viz.ts",
  ablate: "ablate.ts",
  experiments: "experiments.ts",
  data: "data.ts",
  demo: "demo.ts",
  attributes: "attributes.ts",
  "clip:finetune": "clip_finetune.ts",
  "clip:demo": "clip_demo.ts",
  zeroshot: "zeroshot.ts",
};

/** Making a cell's pictures for the grid report: `deno task viz` in a child process (so the grid
 * process never loads libtorch), reusing earlier pictures of the same run. */
import type { PictureMaker } from "./report.ts";
import type { VizResult } from "./viz.ts";

const VIZ_SCRIPT = new URL("../../scripts/viz.ts", import.meta.url).pathname;

/** A {@link PictureMaker} running scripts/viz.ts (unseen-class images only). Failures are
 * reported through `log` and give no pictures. */
export function vizSubprocess(log: (line: string) => void = console.log): PictureMaker {
  return async (runDir, outDir, images) => {
    try {
      const old = JSON.parse(await Deno.readTextFile(`${outDir}/viz.json`)) as VizResult;
      if (
        old.runDir === runDir && old.requested?.images === images && old.requested.unseenOnly
      ) return old;
    } catch { /* none yet */ }
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        VIZ_SCRIPT,
        "--run",
        runDir,
        "--images",
        String(images),
        "--unseen-only",
        "--out",
        outDir,
      ],
      stdout: "piped",
      stderr: "piped",
      // The child resolves relative paths where this process does, not where the user typed.
      env: { NO_PROGRESS: "1", INIT_CWD: Deno.cwd() },
    }).output();
    if (!out.success) {
      log(
        `pictures of ${runDir} failed: ${new TextDecoder().decode(out.stderr).trim().slice(-400)}`,
      );
      return null;
    }
    return JSON.parse(await Deno.readTextFile(`${outDir}/viz.json`)) as VizResult;
  };
}

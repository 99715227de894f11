/** `deno task data <command>`: look at datasets (inspect, synthetic, sheet); `--help` lists the
 * commands; see src/cli/data.ts. */
import { main } from "../src/cli/data.ts";
await main(Deno.args);

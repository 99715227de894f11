/** `deno task demo`: a short tour of the tensor layer; see src/cli/demo.ts. */
import { main } from "../src/cli/demo.ts";
await main(Deno.args);

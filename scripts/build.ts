/** `deno task build`: finds libtorch and builds the native shim if it is missing or stale. */
import { libraryInfo } from "../ffi/lib.ts";
import { version } from "../src/tensor/info.ts";

console.log(
  `libdsva_torch ready (${libraryInfo.origin}): ${libraryInfo.path}, libtorch ${version()}`,
);

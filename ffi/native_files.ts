/** The native sources, relative to `native/`: hashed for the build cache key and
 * fetched next to `mod.ts` when the library is imported from a URL. A test
 * checks this list against the folder. */
export const NATIVE_FILES = [
  "CMakeLists.txt",
  "include/dsva_torch.h",
  "src/internal.h",
  "src/errors.cpp",
  "src/tensors.cpp",
  "src/ops.cpp",
  "src/autograd.cpp",
  "src/runtime.cpp",
  "src/pickle.cpp",
  "src/jit.cpp",
  "src/distributed.cpp",
] as const;

/** Whether a path exists, and of which kind: the synchronous checks the loader, the data layer,
 * the experiment runner and the tests make before reading or resuming. A path that cannot be
 * stat'ed (missing, or no permission) counts as absent. They live in ffi/ because the loader
 * stands alone (a copy of ffi/ and native/ loads the library) and the rest of the project
 * builds on ffi/. */

/** Whether anything (file, folder, link target) is at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is an existing regular file. */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Whether `path` is an existing directory. */
export function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

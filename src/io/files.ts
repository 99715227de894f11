/** Small file helpers for weight files: exact positioned reads, full writes, atomic replace. */
import { WeightFileError } from "./errors.ts";

/** Fills `buf` from `file` starting at byte `offset`; a short file is an error naming `path`. */
export async function readExactlyAt(
  file: Deno.FsFile,
  path: string,
  offset: number,
  buf: Uint8Array,
  what: { entry?: string } = {},
): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < buf.length) {
    const n = await file.read(buf.subarray(done));
    if (n === null) {
      throw new WeightFileError(
        path,
        `file is truncated: expected ${buf.length} bytes at offset ${offset}, found ${done}`,
        what,
      );
    }
    done += n;
  }
}

/** Writes every byte of `bytes` (FsFile.write may write fewer per call). */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/** Opens `path` for reading, turning "not found" and friends into a WeightFileError. */
export async function openForRead(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    throw new WeightFileError(path, `cannot open: ${(e as Error).message}`, { cause: e });
  }
}

/** Writes a file atomically: `fill` writes into a temporary file beside `path`,
 * which is flushed to disk and then renamed over `path`. On any error the temporary
 * file is removed and `path` is left as it was. */
export async function writeAtomically(
  path: string,
  fill: (file: Deno.FsFile) => Promise<void>,
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash + 1) : "";
  const base = path.slice(slash + 1);
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const tmp = `${dir}.${base}.tmp-${Deno.pid}-${rand}`;
  let file: Deno.FsFile | null = null;
  try {
    file = await Deno.open(tmp, { write: true, createNew: true });
    await fill(file);
    await file.syncData();
    file.close();
    file = null;
    await Deno.rename(tmp, path);
  } catch (e) {
    if (file !== null) file.close();
    await Deno.remove(tmp).catch(() => {});
    if (e instanceof WeightFileError) throw e;
    throw new WeightFileError(path, `cannot write: ${(e as Error).message}`, { cause: e });
  }
}

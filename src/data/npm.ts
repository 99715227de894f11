/** The npm packages of the data layer, loaded on first use: importing `mod.ts` then needs no
 * npm download, and a program that never decodes an image never loads sharp. The specifiers
 * are in constants so that they are not fetched with the module graph. */

const SHARP = "npm:sharp@^0.34";
const ZOD = "npm:zod@^4";
const CSV = "npm:csv-parse@^7/sync";
const H5WASM = "npm:h5wasm@^0.10";

/** sharp's default export (libvips). */
export type Sharp = typeof import("npm:sharp@^0.34"); // `export =` in its types
/** zod's `z` namespace. */
export type Zod = typeof import("npm:zod@^4").z;
/** csv-parse's synchronous `parse`. */
export type CsvParse = typeof import("npm:csv-parse@^7/sync").parse;
/** h5wasm's default export. */
export type H5wasm = typeof import("npm:h5wasm@^0.10").default;

let sharp: Promise<Sharp> | undefined;
let zod: Promise<Zod> | undefined;
let csv: Promise<CsvParse> | undefined;
let h5: Promise<H5wasm> | undefined;

/** sharp, loaded once. */
export const loadSharp = (): Promise<Sharp> => (sharp ??= import(SHARP).then((m) => m.default));
/** zod's `z`, loaded once. */
export const loadZod = (): Promise<Zod> => (zod ??= import(ZOD).then((m) => m.z));
/** csv-parse's `parse`, loaded once. */
export const loadCsvParse = (): Promise<CsvParse> => (csv ??= import(CSV).then((m) => m.parse));
/** h5wasm, loaded once. */
export const loadH5wasm = (): Promise<H5wasm> => (h5 ??= import(H5WASM).then((m) => m.default));

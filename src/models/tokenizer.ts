/** CLIP tokenization: `tokenizer.json` read by `npm:@huggingface/tokenizers` (a pure
 * JS port of Hugging Face tokenizers), with batching, right padding and truncation
 * at the context length done here as Python `tokenizers` does them (truncation
 * keeps the begin/end-of-text tokens: the text is cut to `maxLength` minus the
 * special tokens, then wrapped). The package is imported on first use, so
 * importing this module costs nothing and works offline. */
import { isDir, isFile } from "../../ffi/fs.ts";
import { tokenizerBeside } from "./clip_sources.ts";
import { fromBuffer, type Tensor } from "../tensor/index.ts";

// Version pinned here and in deno.lock; loaded lazily (see the module doc).
const TOKENIZERS = "npm:@huggingface/tokenizers@^0.2.0";
type TokenizersModule = typeof import("npm:@huggingface/tokenizers@^0.2.0");
type JsTokenizer = InstanceType<TokenizersModule["Tokenizer"]>;

let loaded: Promise<TokenizersModule> | null = null;
function tokenizers(): Promise<TokenizersModule> {
  loaded ??= (import(TOKENIZERS) as Promise<TokenizersModule>).catch((e) => {
    loaded = null;
    throw new Error(
      `cannot load ${TOKENIZERS} (needed to tokenize text): ${(e as Error).message}. ` +
        `It is fetched from the npm registry on first use; run once with network access ` +
        `(or \`deno cache\` a script that imports it) to cache it.`,
      { cause: e },
    );
  });
  return loaded;
}

/** How `CLIPTokenizer` resolves its settings. */
export interface CLIPTokenizerOptions {
  /** Default `maxLength` of `encode`: the model's context length. Default: the
   * `model_max_length` of `tokenizer_config.json` beside the file when it is a
   * sensible number, else the `truncation.max_length` of tokenizer.json, else 77. */
  contextLength?: number;
  /** The padding token. Default: tokenizer.json's `padding.pad_token`, else the
   * `pad_token` of `tokenizer_config.json`, else the end-of-text token (what
   * OpenAI CLIP pads with). */
  padToken?: string;
}

/** Options of `CLIPTokenizer.encode`. */
export interface TokenizeOptions {
  /** Longest sequence, special tokens included (the tokenizer's `contextLength`). */
  maxLength?: number;
  /** "longest" (default): pad every sequence to the longest of the batch;
   * "max_length": pad to `maxLength`. Padding goes on the right. */
  padding?: "longest" | "max_length";
  /** Cut texts longer than `maxLength` (default true; the end-of-text token is kept).
   * With false, such a text is an error. */
  truncation?: boolean;
}

/** A tokenized batch. */
export interface TokenizedBatch {
  /** [N, L] int64 token ids. */
  inputIds: Tensor;
  /** [N, L] int64: 1 for tokens, 0 for padding. */
  attentionMask: Tensor;
}

const tokenName = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "object" && v !== null &&
      typeof (v as { content?: unknown }).content === "string"
    ? (v as { content: string }).content
    : undefined;

/** A CLIP tokenizer over a Hugging Face `tokenizer.json`. */
export class CLIPTokenizer {
  /** Ids put before every text (CLIP: begin-of-text). */
  readonly prefixIds: readonly number[];
  /** Ids put after every text (CLIP: end-of-text). */
  readonly suffixIds: readonly number[];
  /** The id padding uses. */
  readonly padTokenId: number;
  /** Default `maxLength` of `encode`. */
  readonly contextLength: number;
  /** A clean-up applied to each text before the tokenizer.json pipeline (open_clip's
   * `basic_clean` for a BPE vocabulary file), or none. */
  #clean: ((text: string) => string) | null = null;

  private constructor(
    private readonly tk: JsTokenizer,
    opts: { prefixIds: number[]; suffixIds: number[]; padTokenId: number; contextLength: number },
  ) {
    this.prefixIds = opts.prefixIds;
    this.suffixIds = opts.suffixIds;
    this.padTokenId = opts.padTokenId;
    this.contextLength = opts.contextLength;
  }

  /** Reads a `tokenizer.json` (and the `tokenizer_config.json` beside it, if any). */
  static async fromFile(path: string, opts: CLIPTokenizerOptions = {}): Promise<CLIPTokenizer> {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      throw new Error(`${path}: cannot read tokenizer: ${(e as Error).message}`, { cause: e });
    }
    const slash = path.lastIndexOf("/");
    const cfgPath = `${slash >= 0 ? path.slice(0, slash) : "."}/tokenizer_config.json`;
    let config: Record<string, unknown> = {};
    if (isFile(cfgPath)) {
      try {
        config = JSON.parse(await Deno.readTextFile(cfgPath));
      } catch (e) {
        throw new Error(`${cfgPath}: not valid JSON: ${(e as Error).message}`, { cause: e });
      }
    }
    return CLIPTokenizer.fromJSON(json, config, opts, path);
  }

  /** The tokenizer of a CLIP source. A folder: its `tokenizer.json`, else the `vocab.json` +
   * `merges.txt` pair of older Hugging Face CLIP checkpoints, else a
   * `bpe_simple_vocab_16e6.txt.gz`. A `.json` file: that tokenizer.json. A `.txt.gz` / `.txt`
   * file: OpenAI / open_clip's BPE merges (see {@link CLIPTokenizer.fromBpeVocab}). A weights
   * file (`ViT-B-32.pt`, an open_clip checkpoint): the `tokenizer.json` or
   * `bpe_simple_vocab_16e6.txt.gz` beside it. */
  static async fromPretrained(
    pathOrDir: string,
    opts: CLIPTokenizerOptions = {},
  ): Promise<CLIPTokenizer> {
    const path = pathOrDir.replace(/\/+$/, "");
    if (isFile(path)) {
      if (path.endsWith(".json")) return CLIPTokenizer.fromFile(path, opts);
      if (/\.txt(\.gz)?$/.test(path)) return CLIPTokenizer.fromBpeVocab(path, opts);
      const beside = tokenizerBeside(path);
      if (beside) return CLIPTokenizer.fromPretrained(beside, opts);
      const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
      throw new Error(
        `${path}: no tokenizer beside these weights; put the model's tokenizer.json, or ` +
          `OpenAI / open_clip's bpe_simple_vocab_16e6.txt.gz (in the open_clip package), in ${dir}`,
      );
    }
    const dir = path;
    if (!isDir(dir)) throw new Error(`${dir}: no such tokenizer file or model folder`);
    if (isFile(`${dir}/tokenizer.json`)) {
      return CLIPTokenizer.fromFile(`${dir}/tokenizer.json`, opts);
    }
    if (isFile(`${dir}/vocab.json`) && isFile(`${dir}/merges.txt`)) {
      const json = clipTokenizerJson(
        JSON.parse(await Deno.readTextFile(`${dir}/vocab.json`)),
        await Deno.readTextFile(`${dir}/merges.txt`),
      );
      let config: Record<string, unknown> = {};
      if (isFile(`${dir}/tokenizer_config.json`)) {
        config = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer_config.json`));
      }
      return CLIPTokenizer.fromJSON(json, config, opts, `${dir}/vocab.json`);
    }
    const beside = tokenizerBeside(`${dir}/weights`);
    if (beside) return CLIPTokenizer.fromPretrained(beside, opts);
    throw new Error(
      `${dir}: no tokenizer.json (nor vocab.json + merges.txt, nor bpe_simple_vocab_16e6.txt.gz); ` +
        `a CLIP model folder needs one`,
    );
  }

  /** OpenAI / open_clip's tokenizer from their BPE merges file (`bpe_simple_vocab_16e6.txt.gz`,
   * gzipped or not): the vocabulary is built as their `SimpleTokenizer` builds it (256 byte
   * symbols, the same with `</w>`, the first 48894 merges, then `<start_of_text>` 49406 and
   * `<end_of_text>` 49407), texts are cleaned as open_clip's `basic_clean` + lower-casing
   * ({@link openClipClean}), and batches pad with id 0 to the context length 77, as
   * `open_clip.tokenize`. */
  static async fromBpeVocab(path: string, opts: CLIPTokenizerOptions = {}): Promise<CLIPTokenizer> {
    let text: string;
    try {
      using f = await Deno.open(path);
      const stream = path.endsWith(".gz")
        ? f.readable.pipeThrough(new DecompressionStream("gzip"))
        : f.readable;
      text = await new Response(stream).text();
    } catch (e) {
      throw new Error(`${path}: cannot read the BPE vocabulary: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const lines = text.split("\n");
    const nMerges = 49152 - 256 - 2;
    if (lines.length < nMerges + 1) {
      throw new Error(
        `${path}: ${lines.length} lines; OpenAI's BPE vocabulary has a header and ` +
          `${nMerges} merges (is the file truncated?)`,
      );
    }
    const merges = lines.slice(1, nMerges + 1);
    const { order, char } = bytesToUnicode();
    const symbols = order.map((b) => char[b]);
    const list = [...symbols, ...symbols.map((s) => s + "</w>")];
    for (const m of merges) list.push(m.split(" ").join(""));
    const bos = "<start_of_text>", eos = "<end_of_text>";
    list.push(bos, eos);
    const vocab: Record<string, number> = {};
    list.forEach((t, i) => (vocab[t] = i));
    const json = clipTokenizerJson(vocab, merges.join("\n"), { bos, eos });
    const tok = await CLIPTokenizer.fromJSON(
      json,
      {},
      { contextLength: 77, padToken: symbols[0], ...opts },
      path,
    );
    tok.#clean = openClipClean;
    return tok;
  }

  /** From parsed `tokenizer.json` and `tokenizer_config.json` objects; `where`
   * names the source in errors. */
  static async fromJSON(
    json: Record<string, unknown>,
    config: Record<string, unknown> = {},
    opts: CLIPTokenizerOptions = {},
    where = "tokenizer.json",
  ): Promise<CLIPTokenizer> {
    const mod = await tokenizers();
    let tk: JsTokenizer;
    try {
      tk = new mod.Tokenizer(json, config);
    } catch (e) {
      throw new Error(`${where}: not a usable tokenizer: ${(e as Error).message}`, { cause: e });
    }
    patchLowercase(tk.normalizer, mod);
    const added = new Map<string, number>();
    for (const [id, t] of tk.get_added_tokens_decoder()) added.set(t.content, id);
    const idOf = (tok: string): number | undefined => added.get(tok) ?? tk.token_to_id(tok);
    const need = (tok: string, what: string): number => {
      const id = idOf(tok);
      if (id === undefined) throw new Error(`${where}: ${what} "${tok}" is not in the vocabulary`);
      return id;
    };
    // Where the post-processor puts the text: what comes before and after it.
    const MARK = "\u0000\u0001text\u0001\u0000";
    const wrapped = tk.post_processor ? tk.post_processor.post_process([MARK]).tokens : [MARK];
    const at = wrapped.indexOf(MARK);
    if (at < 0 || wrapped.indexOf(MARK, at + 1) >= 0) {
      throw new Error(`${where}: the post_processor does not wrap a single text once`);
    }
    const prefixIds = wrapped.slice(0, at).map((t) => need(t, "special token"));
    const suffixIds = wrapped.slice(at + 1).map((t) => need(t, "special token"));

    const padding = json.padding as { pad_id?: unknown; pad_token?: unknown } | null | undefined;
    let padTokenId: number;
    if (opts.padToken !== undefined) padTokenId = need(opts.padToken, "padToken");
    else if (padding && typeof padding.pad_id === "number") padTokenId = padding.pad_id;
    else if (tokenName(config.pad_token) !== undefined) {
      padTokenId = need(tokenName(config.pad_token)!, "tokenizer_config.json pad_token");
    } else if (suffixIds.length > 0) padTokenId = suffixIds[suffixIds.length - 1];
    else {
      throw new Error(`${where}: no padding token is known; pass { padToken }`);
    }

    const trunc = json.truncation as { max_length?: unknown } | null | undefined;
    const mml = config.model_max_length;
    const contextLength = opts.contextLength ??
      (typeof mml === "number" && Number.isInteger(mml) && mml > 0 && mml <= 1e5
        ? mml
        : trunc && typeof trunc.max_length === "number"
        ? trunc.max_length
        : 77);
    if (!Number.isInteger(contextLength) || contextLength <= prefixIds.length + suffixIds.length) {
      throw new RangeError(
        `CLIPTokenizer: contextLength ${contextLength} leaves no room for text ` +
          `(${prefixIds.length + suffixIds.length} special tokens)`,
      );
    }
    return new CLIPTokenizer(tk, { prefixIds, suffixIds, padTokenId, contextLength });
  }

  /** Number of ids in the vocabulary (added tokens included). */
  get vocabSize(): number {
    return this.tk.get_vocab(true).size;
  }

  /** The ids of one text without special tokens, padding or truncation. */
  tokenIds(text: string): number[] {
    const t = this.#clean ? this.#clean(text) : text;
    return this.tk.encode(t, { add_special_tokens: false }).ids;
  }

  /** The ids of one text with special tokens (cut to `maxLength` with `truncation`). */
  encodeOne(text: string, opts: Omit<TokenizeOptions, "padding"> = {}): number[] {
    const max = opts.maxLength ?? this.contextLength;
    const room = max - this.prefixIds.length - this.suffixIds.length;
    if (!Number.isInteger(max) || room < 0) {
      throw new RangeError(
        `CLIPTokenizer: maxLength ${max} is shorter than the ${
          this.prefixIds.length + this.suffixIds.length
        } special tokens`,
      );
    }
    let ids = this.tokenIds(text);
    if (ids.length > room) {
      if (opts.truncation === false) {
        throw new RangeError(
          `CLIPTokenizer: text of ${
            ids.length + max - room
          } tokens exceeds maxLength ${max} (truncation is off): "${text.slice(0, 60)}..."`,
        );
      }
      ids = ids.slice(0, room);
    }
    return [...this.prefixIds, ...ids, ...this.suffixIds];
  }

  /** Tokenizes a batch into [N, L] int64 ids and attention mask (padded on the right). */
  encode(texts: string | readonly string[], opts: TokenizeOptions = {}): TokenizedBatch {
    const list = typeof texts === "string" ? [texts] : texts;
    if (list.length === 0) throw new RangeError("CLIPTokenizer.encode: no texts");
    const seqs = list.map((t, i) => {
      if (typeof t !== "string") {
        throw new TypeError(`CLIPTokenizer.encode: text ${i} is ${typeof t}, not a string`);
      }
      return this.encodeOne(t, opts);
    });
    const padding = opts.padding ?? "longest";
    if (padding !== "longest" && padding !== "max_length") {
      throw new TypeError(`CLIPTokenizer.encode: padding "${padding}" (longest, max_length)`);
    }
    const len = padding === "max_length"
      ? (opts.maxLength ?? this.contextLength)
      : Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(list.length * len).fill(BigInt(this.padTokenId));
    const mask = new BigInt64Array(list.length * len);
    seqs.forEach((s, i) => {
      for (let j = 0; j < s.length; j++) {
        ids[i * len + j] = BigInt(s[j]);
        mask[i * len + j] = 1n;
      }
    });
    return {
      inputIds: fromBuffer(ids, [list.length, len], { dtype: "int64" }),
      attentionMask: fromBuffer(mask, [list.length, len], { dtype: "int64" }),
    };
  }

  /** Text of `ids` (special tokens dropped unless `skipSpecialTokens` is false). */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.tk.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? true });
  }
}

/** Rust `tokenizers` lower-cases character by character (`char::to_lowercase`),
 * while JavaScript's `toLowerCase` applies Unicode's one context-sensitive rule,
 * final sigma (Σ at a word end → ς). Mapping Σ to σ first gives Rust's result. */
const lowercaseAsRust = (text: string): string => text.replaceAll("\u03a3", "\u03c3").toLowerCase();

/** Gives every Lowercase normalizer (also inside a Sequence) Rust's lower-casing. */
function patchLowercase(n: unknown, mod: TokenizersModule): void {
  if (n instanceof mod.LowercaseNormalizer) {
    (n as unknown as { normalize: (t: string) => string }).normalize = lowercaseAsRust;
  } else if (n instanceof mod.SequenceNormalizer) {
    for (const c of (n as unknown as { normalizers: unknown[] }).normalizers) {
      patchLowercase(c, mod);
    }
  }
}

/** The `tokenizer.json` transformers' CLIPTokenizer builds from a `vocab.json`
 * object and `merges.txt` text (OpenAI CLIP's layout: NFC, whitespace collapse and
 * lower-casing; CLIP's split regex then byte-level; BPE with "</w>" word ends;
 * begin/end-of-text around each text). */
export function clipTokenizerJson(
  vocab: Record<string, number>,
  mergesTxt: string,
  tokens: { bos?: string; eos?: string; unk?: string } = {},
): Record<string, unknown> {
  const bos = tokens.bos ?? "<|startoftext|>", eos = tokens.eos ?? "<|endoftext|>";
  const unk = tokens.unk ?? eos;
  const merges = mergesTxt.split("\n")
    .filter((l, i) => l.trim() !== "" && !(i === 0 && l.startsWith("#version")))
    .map((l) => l.trim().split(" "));
  for (const t of [bos, eos]) {
    if (!(t in vocab)) throw new Error(`vocab.json: special token "${t}" is missing`);
  }
  const added = [bos, eos].map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "NFC" },
        { type: "Replace", pattern: { Regex: "\\s+" }, content: " " },
        { type: "Lowercase" },
      ],
    },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        {
          type: "Split",
          pattern: {
            Regex: `${reEscape(bos)}|${reEscape(eos)}|'s|'t|'re|'ve|'m|'ll|'d|` +
              "[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
          },
          behavior: "Removed",
          invert: true,
        },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: {
      type: "RobertaProcessing",
      sep: [eos, vocab[eos]],
      cls: [bos, vocab[bos]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: unk,
      continuing_subword_prefix: "",
      end_of_word_suffix: "</w>",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** GPT-2 / CLIP's byte → printable character table (`bytes_to_unicode`), in CLIP's vocabulary
 * order: the printable bytes first, then the others mapped to U+0100 onwards. */
export function bytesToUnicode(): { order: number[]; char: string[] } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const char = new Array<string>(256);
  bs.forEach((b, i) => (char[b] = String.fromCodePoint(cs[i])));
  return { order: bs, char };
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  copy: "\u00a9",
  reg: "\u00ae",
  deg: "\u00b0",
  eacute: "\u00e9",
  ndash: "\u2013",
  mdash: "\u2014",
  hellip: "\u2026",
};
const LIGATURES: Record<string, string> = {
  "\ufb00": "ff",
  "\ufb01": "fi",
  "\ufb02": "fl",
  "\ufb03": "ffi",
  "\ufb04": "ffl",
  "\ufb06": "st",
  "\u0132": "IJ",
  "\u0133": "ij",
};

const unescapeHtml = (t: string) =>
  t.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e[0] !== "#") return ENTITIES[e] ?? m;
    const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1));
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });

/** open_clip's text clean-up before BPE (`_clean_lower`): `ftfy.fix_text`'s character fixes
 * (curly quotes straightened, Latin ligatures split, full-width forms to ASCII, NFC), HTML
 * entities unescaped twice (numeric ones and the common named ones), whitespace collapsed and
 * trimmed, lower case. ftfy's mojibake repair is not reproduced: text is taken as valid UTF-8. */
export function openClipClean(text: string): string {
  let t = text
    .replace(/[\u02bc\u2018-\u201b]/g, "'")
    .replace(/[\u201c-\u201f]/g, '"')
    .replace(/[\ufb00-\ufb06\u0132\u0133]/g, (c) => LIGATURES[c] ?? c)
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, " ")
    .normalize("NFC");
  t = unescapeHtml(unescapeHtml(t)).trim();
  return t.split(/\s+/).filter((w) => w !== "").join(" ").toLowerCase();
}

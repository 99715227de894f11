/** A tiny byte-level BPE trainer that writes a tokenizer in OpenAI CLIP's exact layout, for
 * CLIP models trained from scratch (`deno task clip:finetune` with no pretrained model).
 *
 * Why train here, at run time: `npm:@huggingface/tokenizers` (the pure-JS port the project
 * tokenizes with) cannot train, and a committed tokenizer.json would fit only the captions it
 * was made from. BPE on a few thousand captions takes milliseconds, is deterministic (ties
 * broken by the pair's text), and needs no Python. The result is turned into a `tokenizer.json`
 * by `clipTokenizerJson`, the same pipeline transformers builds for OpenAI CLIP (NFC,
 * whitespace collapse, lower-casing, CLIP's split regex, byte-level alphabet, `</w>` word ends,
 * `<|startoftext|>` … `<|endoftext|>`), so Python `tokenizers` and transformers read it too.
 * @module
 */
import { bytesToUnicode, clipTokenizerJson } from "../models/tokenizer.ts";

export { bytesToUnicode };

const SPLIT = /'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;

/** CLIP's pre-tokenization of one text (as the tokenizer.json pipeline does it): the words, each
 * as byte-level characters. */
export function clipWords(text: string): string[] {
  const { char } = BYTE;
  const norm = text.normalize("NFC").replace(/\s+/g, " ").replaceAll("\u03a3", "\u03c3")
    .toLowerCase();
  const enc = new TextEncoder();
  return [...norm.matchAll(SPLIT)].map((m) =>
    Array.from(enc.encode(m[0]), (b) => char[b]).join("")
  );
}
const BYTE = bytesToUnicode();

/** Options of {@link trainBpe}. */
export interface TrainBpeOptions {
  /** Most merges learned (default 4000); fewer when no pair occurs `minFrequency` times. */
  maxMerges?: number;
  /** A pair is merged only when it occurs at least this often (default 2). */
  minFrequency?: number;
}

/** A trained vocabulary: CLIP's `vocab.json` object and `merges.txt` lines. */
export interface BpeVocabulary {
  vocab: Record<string, number>;
  merges: string[];
}

/** Learns byte-level BPE merges on `texts` (CLIP's word-end `</w>` convention). The vocabulary
 * is CLIP's: 256 byte characters, the same with `</w>`, one token per merge, then
 * `<|startoftext|>` and `<|endoftext|>`. */
export function trainBpe(texts: Iterable<string>, opts: TrainBpeOptions = {}): BpeVocabulary {
  const maxMerges = opts.maxMerges ?? 4000;
  const minFreq = Math.max(1, opts.minFrequency ?? 2);
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of clipWords(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
  // Words as symbol lists, the last symbol carrying "</w>"; sorted for determinism.
  const words = [...counts.keys()].sort().map((w) => {
    const s = Array.from(w);
    s[s.length - 1] += "</w>";
    return { syms: s, n: counts.get(w)! };
  });
  const merges: string[] = [];
  const SEP = "\u0000";
  for (let m = 0; m < maxMerges; m++) {
    const pairs = new Map<string, number>();
    for (const { syms, n } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = syms[i] + SEP + syms[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + n);
      }
    }
    let best = "", bestN = 0;
    for (const [k, n] of pairs) if (n > bestN || (n === bestN && k < best)) [best, bestN] = [k, n];
    if (bestN < minFreq) break;
    const [a, b] = best.split(SEP);
    merges.push(`${a} ${b}`);
    for (const w of words) {
      const s = w.syms;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]);
      }
      w.syms = out;
    }
  }
  const tokens = BYTE.order.map((b) => BYTE.char[b]);
  const all = [...tokens, ...tokens.map((t) => t + "</w>")];
  const vocab: Record<string, number> = {};
  for (const t of all) vocab[t] = Object.keys(vocab).length;
  for (const m of merges) {
    const t = m.replace(" ", "");
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  }
  vocab["<|startoftext|>"] = Object.keys(vocab).length;
  vocab["<|endoftext|>"] = Object.keys(vocab).length;
  return { vocab, merges };
}

/** `tokenizer.json` and `tokenizer_config.json` objects for a trained vocabulary, with the
 * given context length (`model_max_length`). */
export function bpeTokenizerFiles(
  bpe: BpeVocabulary,
  contextLength: number,
): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  const tokenizer = clipTokenizerJson(bpe.vocab, ["#version: 0.2", ...bpe.merges].join("\n"));
  const config = {
    tokenizer_class: "CLIPTokenizer",
    model_max_length: contextLength,
    bos_token: "<|startoftext|>",
    eos_token: "<|endoftext|>",
    unk_token: "<|endoftext|>",
    pad_token: "<|endoftext|>",
    do_lower_case: true,
  };
  return { tokenizer, config };
}

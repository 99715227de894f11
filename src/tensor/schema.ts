/** A parser for operator schemas as libtorch prints them:
 * `aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor`. */

/** The argument kinds the shim can pass. */
export type ArgKind =
  | "tensor"
  | "tensorList"
  | "optTensorList"
  | "int"
  | "intList"
  | "float"
  | "floatList"
  | "bool"
  | "boolList"
  | "scalar"
  | "dtype"
  | "layout"
  | "memoryFormat"
  | "device"
  | "str"
  | "generator"
  | "unsupported";

export interface SchemaArg {
  name: string;
  /** The type as written, e.g. `int[1]?`. */
  type: string;
  kind: ArgKind;
  optional: boolean;
  hasDefault: boolean;
  kwargOnly: boolean;
  /** Fixed list length (`int[2]`), for expanding a single number. */
  fixedLength?: number;
  /** Alias set written in place (`a` for `Tensor(a!)`). */
  writeAlias?: string;
}

export interface SchemaReturn {
  type: string;
  kind: ArgKind;
  writeAlias?: string;
}

export interface Schema {
  text: string;
  name: string; // "aten::add"
  overload: string; // "Tensor" ("" for the default)
  args: SchemaArg[];
  returns: SchemaReturn[];
}

/** Splits on commas that are not inside brackets, parentheses or quotes. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0, quote = "", start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote && s[i - 1] !== "\\") quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last) out.push(last);
  return out;
}

const BASE_KINDS: Record<string, ArgKind> = {
  Tensor: "tensor",
  int: "int",
  SymInt: "int",
  float: "float",
  bool: "bool",
  Scalar: "scalar",
  ScalarType: "dtype",
  Layout: "layout",
  MemoryFormat: "memoryFormat",
  Device: "device",
  str: "str",
  Generator: "generator",
};

/** Classifies a type string; strips alias annotations. */
export function classify(type: string): { kind: ArgKind; fixedLength?: number; alias?: string } {
  let t = type.trim();
  const alias = /\((\w+)!\)/.exec(t)?.[1];
  t = t.replace(/\([^)]*\)/g, "");
  const optional = t.endsWith("?");
  if (optional) t = t.slice(0, -1);
  const list = /^(\w+)(\?)?\[(\d*)\]$/.exec(t);
  if (list) {
    const [, base, elemOpt, n] = list;
    const fixedLength = n ? Number(n) : undefined;
    const k = base === "Tensor"
      ? (elemOpt ? "optTensorList" : "tensorList")
      : elemOpt
      ? "unsupported"
      : base === "int" || base === "SymInt"
      ? "intList"
      : base === "float"
      ? "floatList"
      : base === "bool"
      ? "boolList"
      : "unsupported";
    return { kind: k, fixedLength, alias };
  }
  return { kind: BASE_KINDS[t] ?? "unsupported", alias };
}

export function parseSchema(text: string): Schema {
  const m = /^([\w:]+)(?:\.(\w+))?\((.*)\)\s*->\s*(.*)$/s.exec(text.trim());
  if (!m) throw new SyntaxError(`cannot parse operator schema: ${text}`);
  const [, name, overload = "", argText, retText] = m;
  const args: SchemaArg[] = [];
  let kwargOnly = false;
  for (const part of splitTop(argText)) {
    if (part === "*") {
      kwargOnly = true;
      continue;
    }
    const eq = part.indexOf("=");
    const decl = eq >= 0 ? part.slice(0, eq).trim() : part;
    const sp = decl.lastIndexOf(" ");
    const type = decl.slice(0, sp).trim();
    const c = classify(type);
    args.push({
      name: decl.slice(sp + 1),
      type,
      kind: c.kind,
      optional: type.endsWith("?"),
      hasDefault: eq >= 0,
      kwargOnly,
      fixedLength: c.fixedLength,
      writeAlias: c.alias,
    });
  }
  const r = retText.trim();
  const inner = r.startsWith("(") && r.endsWith(")") ? r.slice(1, -1) : r;
  const returns = splitTop(inner).map((part) => {
    // "Tensor values" → type "Tensor"; "Tensor(a!)" stays whole.
    const type = /^(.*\S)\s+\w+$/.exec(part)?.[1] ?? part;
    const c = classify(type);
    return { type, kind: c.kind, writeAlias: c.alias };
  });
  return { text, name, overload, args, returns };
}

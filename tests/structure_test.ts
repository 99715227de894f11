/** The module structure of `src/`: no value-level import circle. A type-only import
 * (`import type`, `export type`, or a specifier list that is all `type` names) is erased when
 * the module is compiled, so it is skipped; every other static import or re-export of a
 * relative module counts. */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";

/** Static `import` / `export ... from` statements, and bare `import "x"`. */
const STATEMENT =
  /^\s*(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm;

/** Whether an `import { ... }` / `export { ... }` clause names only types. */
function onlyTypes(clause: string): boolean {
  const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (!braces) return false; // a default import, `* as ns`, or a mix: a value import
  const names = braces[1].split(",").map((s) => s.trim()).filter((s) => s !== "");
  return names.length > 0 && names.every((s) => s.startsWith("type "));
}

/** The relative modules that `source` (at `path`) imports as values, as absolute paths. */
export function valueImports(path: string, source: string): string[] {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const out: string[] = [];
  for (const m of source.matchAll(STATEMENT)) {
    const spec = m[4] ?? m[5];
    if (!spec.startsWith(".")) continue;
    if (m[2] !== undefined || (m[3] !== undefined && onlyTypes(m[3]))) continue;
    out.push(new URL(spec, `file://${dir}/`).pathname);
  }
  return out;
}

/** Every `.ts` file under `dir`, recursively. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...tsFiles(p));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/** The import circles among `files`: each as the list of files around it (first repeated last),
 * one per strongly connected group of files (Tarjan's algorithm, then one circle within it). */
export function importCircles(edges: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      const selfLoop = (edges.get(v) ?? []).includes(v);
      if (group.length > 1 || selfLoop) groups.push(group);
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return groups.map((group) => circleWithin(new Set(group), edges));
}

/** One circle through the first file of a strongly connected group (breadth-first back to it). */
function circleWithin(group: Set<string>, edges: Map<string, string[]>): string[] {
  const start = [...group].sort()[0];
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of edges.get(v) ?? []) {
      if (!group.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = from.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** The value-level import graph of every `.ts` file under `dir`. */
function importGraph(dir: string): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const f of tsFiles(dir)) edges.set(f, valueImports(f, Deno.readTextFileSync(f)));
  return edges;
}

const rel = (p: string) => p.slice(ROOT.length + 1);

Deno.test("structure: the import scanner tells value imports from type-only ones", () => {
  const src = [
    `import { a } from "./a.ts";`,
    `import type { B } from "./b.ts";`,
    `import { type C, type D } from "./c.ts";`,
    `import { type E, e } from "./e.ts";`,
    `export { f } from "./f.ts";`,
    `export type { G } from "./g.ts";`,
    `export * as h from "./h.ts";`,
    `import "./i.ts";`,
    `import {\n  j,\n  type J,\n} from "../j.ts";`,
    `import { z } from "npm:zod@^4";`,
  ].join("\n");
  assert.deepEqual(valueImports("/r/src/x/m.ts", src), [
    "/r/src/x/a.ts",
    "/r/src/x/e.ts",
    "/r/src/x/f.ts",
    "/r/src/x/h.ts",
    "/r/src/x/i.ts",
    "/r/src/j.ts",
  ]);
});

Deno.test("structure: the circle finder reports a circle and only circles", () => {
  const g = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a", "d"]],
    ["d", []],
    ["e", ["e"]],
  ]);
  assert.deepEqual(importCircles(g), [["a", "b", "c", "a"], ["e", "e"]]);
  assert.deepEqual(importCircles(new Map([["a", ["b"]], ["b", []]])), []);
});

Deno.test("structure: no value-level import circle anywhere in src/", () => {
  const circles = importCircles(importGraph(`${ROOT}/src`)).map((c) => c.map(rel).join(" → "));
  assert.deepEqual(circles, [], `value-level import circles:\n  ${circles.join("\n  ")}`);
});

/** Every import (type-only ones included) of `source`, as specifiers. */
function allImportSpecifiers(source: string): string[] {
  return [...source.matchAll(STATEMENT)].map((m) => m[4] ?? m[5]);
}

Deno.test("structure: nothing outside src/cli/ imports src/cli/", () => {
  const offenders: string[] = [];
  for (const f of tsFiles(`${ROOT}/src`)) {
    if (f.startsWith(`${ROOT}/src/cli/`)) continue;
    const dir = f.slice(0, f.lastIndexOf("/"));
    for (const spec of allImportSpecifiers(Deno.readTextFileSync(f))) {
      if (!spec.startsWith(".")) continue;
      const target = new URL(spec, `file://${dir}/`).pathname;
      if (target.startsWith(`${ROOT}/src/cli/`)) offenders.push(`${rel(f)} → ${rel(target)}`);
    }
  }
  assert.deepEqual(offenders, []);
});

const srcFolders = () =>
  [...Deno.readDirSync(`${ROOT}/src`)].filter((e) => e.isDirectory).map((e) => e.name).sort();

Deno.test("structure: every src/ folder's index.ts opens with a @module paragraph", () => {
  const missing = srcFolders().filter((d) => {
    const p = `${ROOT}/src/${d}/index.ts`;
    try {
      const head = Deno.readTextFileSync(p);
      return !/^\/\*\*[\s\S]*?@module[\s\S]*?\*\//.test(head);
    } catch {
      return true;
    }
  });
  assert.deepEqual(missing, [], `src/<folder>/index.ts without @module: ${missing.join(", ")}`);
});

Deno.test("structure: the README's layout lists exactly the folders of the tree", () => {
  const readme = Deno.readTextFileSync(`${ROOT}/README.md`);
  const section = readme.slice(readme.indexOf("## Layout"));
  const open = section.indexOf("```\n") + 4;
  const block = section.slice(open, section.indexOf("\n```", open));
  const listed = block.split("\n").map((l) => l.split(/\s+/)[0]).filter((w) => w.endsWith("/"));
  const top = [...Deno.readDirSync(ROOT)]
    .filter((e) => e.isDirectory && !e.name.startsWith(".") && e.name !== "src")
    .filter((e) => !["node_modules", "runs"].includes(e.name))
    .map((e) => `${e.name}/`);
  const expected = [...top, ...srcFolders().map((d) => `src/${d}/`)].sort();
  assert.deepEqual(listed.sort(), expected);
});

Deno.test("structure: each task's script is a shim over its src/cli/ entry", async () => {
  const { COMMANDS } = await import("../src/cli/index.ts");
  const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks as Record<
    string,
    string
  >;
  for (const [task, file] of Object.entries(COMMANDS)) {
    const script = /deno run -A (scripts\/\S+\.ts)/.exec(tasks[task] ?? "")?.[1];
    assert.ok(script, `deno.json has no task ${task}`);
    const shim = Deno.readTextFileSync(`${ROOT}/${script}`);
    assert.match(shim, new RegExp(`src/cli/${file.replace(".", "\\.")}`), `${script}`);
  }
  const entries = [...Deno.readDirSync(`${ROOT}/src/cli`)]
    .filter((e) =>
      Deno.readTextFileSync(`${ROOT}/src/cli/${e.name}`).includes("export async function main(")
    )
    .map((e) => e.name).sort();
  assert.deepEqual(entries, Object.values(COMMANDS).sort());
});

/**
 * The dependency order of kbook's modules, checked on every import in lib/ and kernel/: a module
 * may import from its own layer or a lower one, never a higher one, and no files import each
 * other in a cycle. The order, lowest first:
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const LAYERS: string[][] = [
  ["lib/errors", "lib/paths.ts"],
  ["lib/args"],
  ["lib/progress", "lib/cpio", "lib/guest", "lib/viz", "lib/system"],
  ["lib/agent", "lib/flamegraph"],
  ["lib/perf", "lib/bpftrace", "lib/gdb"],
  ["lib/vm"],
  ["lib/images"],
  ["lib/linux"],
  ["lib/boot"],
  ["lib/export", "lib/notebooks"],
  ["lib/index.ts"],
  ["kernel"],
  ["lib/cli"],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** The layer index of a file, from the longest matching folder or file name. */
function layerOf(file: string): number {
  let best = -1;
  let bestLength = -1;
  LAYERS.forEach((names, index) => {
    for (const name of names) {
      if ((file === name || file.startsWith(`${name}/`)) && name.length > bestLength) {
        best = index;
        bestLength = name.length;
      }
    }
  });
  return best;
}

/** Relative imports of a file: static, type-only, re-exports and dynamic import(). */
export function importsOf(file: string, source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s+["']([^"']+)["']/gm;
  for (const m of source.matchAll(pattern)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith(".")) specifiers.push(normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts"));
  }
  return specifiers;
}

const files = [...sourceFiles("lib"), ...sourceFiles("kernel")].map((f) => relative(".", f));
const edges = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, "utf8"))]));

describe("module layers", () => {
  it("places every file in a layer", () => {
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it("finds the imports it checks (static, type-only, re-exports, dynamic)", () => {
    expect(edges.get("lib/boot/index.ts")).toContain("lib/vm/index.ts");
    expect(edges.get("lib/images/build.ts")).toContain("lib/vm/index.ts"); // a dynamic import()
    expect(edges.get("lib/index.ts")!.length).toBeGreaterThan(5); // export … from
  });

  it("has no import that points up the layer order", () => {
    const upward: string[] = [];
    for (const [file, targets] of edges) {
      for (const target of targets) {
        if (layerOf(target) > layerOf(file)) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("has no import cycle between files", () => {
    // Tarjan's strongly connected components over the file graph.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    let counter = 0;
    const visit = (v: string): void => {
      index.set(v, counter);
      low.set(v, counter++);
      stack.push(v);
      onStack.add(v);
      for (const w of edges.get(v) ?? []) {
        if (!edges.has(w)) continue;
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1) cycles.push(component.sort());
      }
    };
    for (const f of files) if (!index.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});

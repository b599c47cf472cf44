/**
 * Renderer fuzzing: any folded text either renders to well-formed XML (checked by Python's
 * expat, a real XML parser) whose frame titles carry the input's names, or fails with a
 * UsageError. Inputs that once broke it are kept in testdata/fuzz/.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { execaSync } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors/index.js";
import { renderFlameGraph, type FlameGraphOptions } from "../../lib/flamegraph/index.js";
import { drawnFrames } from "./svg-titles.js";

const dir = mkdtempSync(join(tmpdir(), "kbook-fg-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Parses every SVG in `files` with expat; returns the files that are not well-formed. */
function notWellFormed(files: string[]): string[] {
  const script = "import sys, xml.dom.minidom as m\nfor p in sys.argv[1:]:\n  try: m.parse(p)\n  except Exception as e: print(p, e)";
  return execaSync("python3", ["-c", script, ...files]).stdout.split("\n").filter(Boolean);
}

const name = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("<script>alert(1)</script>", "a&b", '"q"', "]]>", "--", "-", "x_[k]", "y_[j]", "\u0000", "\ud800", "\u{1F525}"),
).map((s) => s.replace(/[;\n]/g, ""));
const line = fc.tuple(fc.array(name, { minLength: 1, maxLength: 6 }), fc.nat(1000), fc.option(fc.nat(1000))).map(
  ([frames, a, b]) => `${frames.join(";")} ${a}${b === null ? "" : ` ${b}`}`,
);
const options = fc.record(
  {
    inverted: fc.boolean(),
    reverse: fc.boolean(),
    flamechart: fc.boolean(),
    hash: fc.boolean(),
    colors: fc.constantFrom("hot", "java", "js", "perl", "chain", "wakeup", "mem", "io"),
    minwidth: fc.constantFrom(0, "0.1", "1%"),
    title: name,
    subtitle: name,
    countname: name,
    nametype: name,
    notes: name,
  },
  { requiredKeys: [] },
) as fc.Arbitrary<FlameGraphOptions>;

describe("renderer fuzzing", () => {
  it("renders well-formed XML or fails with a UsageError", () => {
    const files: string[] = [];
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), options, (lines, opts) => {
        let svg: string;
        try {
          svg = renderFlameGraph(lines.join("\n"), opts);
        } catch (error) {
          if (error instanceof UsageError) return;
          throw error;
        }
        const file = join(dir, `case-${files.length}.svg`);
        writeFileSync(file, svg);
        files.push(file);
        expect(drawnFrames(svg).length).toBeGreaterThan(0);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
    );
    expect(files.length).toBeGreaterThan(10);
    expect(notWellFormed(files)).toEqual([]);
  });

  const fixtures = join(import.meta.dirname, "testdata", "fuzz");
  it.each(readdirSync(fixtures).filter((f) => f.endsWith(".folded")))("kept input %s", (file) => {
    const svg = renderFlameGraph(readFileSync(join(fixtures, file), "utf8"), { minwidth: 0 });
    const out = join(dir, file + ".svg");
    writeFileSync(out, svg);
    expect(notWellFormed([out])).toEqual([]);
  });
});

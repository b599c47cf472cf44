import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BpftraceOutputError,
  parseBpftraceJson,
  parseBpftraceText,
  parseJsonRecords,
  parseTextRecords,
  type BpftraceMap,
  type HistogramBucket,
  type MapKey,
} from "../../lib/bpftrace/index.js";
import { jsonLine, jsonKeyText, textBlock } from "./bpftrace-writer.js";

const data = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");

/** Parsing may reject input, but only with the parse error that names a line. */
function parsesOrNamesLine(parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof BpftraceOutputError)) throw error;
    expect(error.line).toBeGreaterThan(0);
  }
}

const frame = fc.oneof(
  fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_.]{0,15}$/), fc.nat(5000)).map(([s, n]) => `${s}+${n}`),
  fc.stringMatching(/^0x[0-9a-f]{6,12}$/),
);
const keyValue = fc.stringMatching(/^[a-z0-9_/.-]{1,12}$/).filter((s) => !["count", "average", "total"].includes(s));
const stackPart = fc.array(frame, { minLength: 1, maxLength: 6 }).map((frames) => ({ kind: "stack" as const, frames }));
const valuePart = keyValue.map((text) => ({ kind: "value" as const, text }));
const keyParts = fc.oneof(
  fc.tuple(stackPart),
  fc.tuple(valuePart),
  fc.tuple(valuePart, stackPart),
  fc.tuple(stackPart, valuePart),
) as fc.Arbitrary<MapKey["parts"]>;

function keysFor<V>(value: fc.Arbitrary<V>, jsonText: (parts: MapKey["parts"]) => string) {
  return fc
    .uniqueArray(fc.tuple(keyParts, value), { minLength: 1, maxLength: 6, selector: ([parts]) => jsonText(parts) })
    .map((pairs) => pairs.map(([parts, v]) => ({ key: { text: jsonText(parts), parts }, value: v })));
}

const log2Buckets: fc.Arbitrary<HistogramBucket[]> = fc
  .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 8 }), fc.array(fc.nat(10_000), { minLength: 8, maxLength: 8 }))
  .map(([first, n, counts]) =>
    counts.slice(0, n).map((count, i) => {
      const index = first + i;
      if (index === 0) return { max: -1, count };
      if (index === 1) return { min: 0, max: 0, count };
      if (index === 2) return { min: 1, max: 1, count };
      return { min: 2 ** (index - 2), max: 2 ** (index - 1) - 1, count };
    }),
  );
const linearBuckets: fc.Arbitrary<HistogramBucket[]> = fc
  .tuple(fc.integer({ min: 3, max: 2048 }), fc.integer({ min: 2, max: 8 }), fc.array(fc.nat(10_000), { minLength: 8, maxLength: 8 }))
  .map(([step, n, counts]) => counts.slice(0, n).map((count, i) => ({ min: i * step, max: (i + 1) * step - 1, count })));

const mapName = fc.stringMatching(/^@[a-z_][a-z0-9_]{0,8}$/);
const countsMap = fc.tuple(mapName, keysFor(fc.integer({ min: -1e9, max: 1e12 }), jsonKeyText)).map(([name, entries]): BpftraceMap => ({ kind: "values", name, entries }));
const histMap = fc
  .tuple(mapName, fc.constantFrom("log2" as const, "linear" as const))
  .chain(([name, scale]) =>
    keysFor(scale === "log2" ? log2Buckets : linearBuckets, jsonKeyText).map((entries): BpftraceMap => ({ kind: "histogram", name, scale, entries })),
  );
const stats = fc.tuple(fc.nat(1e6), fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: -1e9, max: 1e9 })).map(([count, average, total]) => ({ count, average, total }));
const statsMap = fc.tuple(mapName, keysFor(stats, jsonKeyText)).map(([name, entries]): BpftraceMap => ({ kind: "stats", name, entries }));
const scalarMap = fc.tuple(mapName, fc.oneof(fc.integer(), fc.string(), fc.tuple(fc.integer(), fc.string()))).map(
  ([name, value]): BpftraceMap => ({ kind: "values", name, entries: [{ key: null, value }] }),
);
const unkeyedMap = fc.oneof(
  fc.tuple(mapName, log2Buckets).map(([name, value]): BpftraceMap => ({ kind: "histogram", name, scale: "log2", entries: [{ key: null, value }] })),
  fc.tuple(mapName, stats).map(([name, value]): BpftraceMap => ({ kind: "stats", name, entries: [{ key: null, value }] })),
  fc.tuple(mapName, fc.integer()).map(([name, average]): BpftraceMap => ({ kind: "stats", name, entries: [{ key: null, value: { average } }] })),
);
const anyMap = fc.oneof(countsMap, histMap, statsMap);
const distinctMaps = (arb: fc.Arbitrary<BpftraceMap>) => fc.uniqueArray(arb, { minLength: 1, maxLength: 5, selector: (m) => m.name });

describe("fuzzing the bpftrace parsers", () => {
  it("JSON output as bpftrace writes it parses back to the same maps", () => {
    fc.assert(
      fc.property(distinctMaps(fc.oneof(anyMap, scalarMap, unkeyedMap)), (maps) => {
        const text = `{"type": "attached_probes", "data": {"probes": 1}}\n\n\n${maps.map(jsonLine).join("\n")}\n`;
        expect(parseBpftraceJson(text).maps).toEqual(maps);
      }),
      { numRuns: 300 },
    );
  });

  it("text output as bpftrace writes it parses back to the same maps (keys compared by parts)", () => {
    fc.assert(
      fc.property(distinctMaps(anyMap), (maps) => {
        const text = `Attaching 1 probe...\n\n\n${maps.map(textBlock).join("\n")}`;
        const parsed = parseBpftraceText(text).maps;
        const strip = (m: BpftraceMap) => ({ ...m, entries: m.entries.map((e) => ({ parts: e.key?.parts, value: e.value })) });
        expect(parsed.map(strip)).toEqual(maps.map(strip));
      }),
      { numRuns: 300 },
    );
  });

  it("arbitrary text never crashes either parser", () => {
    const line = fc.oneof(fc.string(), fc.json(), fc.constantFrom("@[", "]: 1", "@x: ", "[1, 2)  3 |@|", '{"type": "map"', "    f+1"));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const text = lines.join("\n");
        parsesOrNamesLine(() => parseBpftraceJson(text));
        parsesOrNamesLine(() => parseBpftraceText(text));
        parseJsonRecords(text, { strict: false });
        parseTextRecords(text, { strict: false });
      }),
      { numRuns: 1000 },
    );
  });

  it("arbitrary JSON values in bpftrace's record shapes never crash the JSON parser", () => {
    const record = fc.record({ type: fc.constantFrom("map", "hist", "stats", "printf", "attached_probes", "lost_events", "value", "x"), data: fc.jsonValue() });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 6 }), (records) => {
        parsesOrNamesLine(() => parseBpftraceJson(records.map((r) => JSON.stringify(r)).join("\n")));
      }),
      { numRuns: 1000 },
    );
  });

  it("real output cut at any point fails only with a named line, and lenient parsing keeps the rest", () => {
    for (const name of ["all-types.json", "host-profile-kstack.json", "all-types.txt", "host-profile-kstack.txt"]) {
      const text = data(name);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: text.length }), (cut) => {
          const part = text.slice(0, cut);
          const json = name.endsWith(".json");
          parsesOrNamesLine(() => (json ? parseBpftraceJson(part) : parseBpftraceText(part)));
          const lenient = json ? parseJsonRecords(part, { strict: false }) : parseTextRecords(part, { strict: false });
          expect(lenient.problems.length).toBeLessThanOrEqual(1);
        }),
        { numRuns: 150 },
      );
    }
  });

  it("bytes flipped in real JSON output fail only with a named line", () => {
    const text = data("all-types.json");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), fc.string({ minLength: 1, maxLength: 3 }), (at, junk) => {
        parsesOrNamesLine(() => parseBpftraceJson(text.slice(0, at) + junk + text.slice(at + 1)));
      }),
      { numRuns: 1000 },
    );
  });
});

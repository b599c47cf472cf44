import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BpftraceOutputError, parseBpftraceJson, parseJsonRecords, StackCounts } from "../../lib/bpftrace/index.js";

const data = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");

describe("parseBpftraceJson on bpftrace 0.17 output", () => {
  const result = parseBpftraceJson(data("all-types.json"));

  it("reads attached_probes and the text records in order", () => {
    expect(result.attachedProbes).toBe(1);
    // printf, print(123), print("str"), print((1,"x")), system("echo hi"), cat("/proc/loadavg")
    expect(result.output).toMatch(/^a,b\n123\nstr\n\[1,"x"\]\nhi\n[\d.]+ [\d.]+ [\d.]+ \d+\/\d+ \d+\n$/);
    const sources = result.records.filter((r) => r.type === "text").map((r) => (r.type === "text" ? r.source : ""));
    expect(sources).toEqual(["printf", "syscall", "cat"]);
    expect(result.records.filter((r) => r.type === "value").map((r) => (r.type === "value" ? r.value : null))).toEqual([123, "str", [1, "x"]]);
  });

  it("reads scalar, string, tuple and struct-less values", () => {
    expect(result.map("@tup")).toEqual({ kind: "values", name: "@tup", entries: [{ key: null, value: [1, "two", 3] }] });
    const tv = result.map("tv")!;
    expect(tv.kind).toBe("values");
    expect(tv.entries[0]!.key!.text).toBe("k");
    expect(tv.entries[0]!.value).toEqual([4, "five"]);
    const q = result.map("@q")!;
    expect(q.entries[0]!.key!.text).toBe('a"b\\c\td');
  });

  it("reads stats and avg maps", () => {
    const sk = result.map("@sk")!;
    expect(sk.kind).toBe("stats");
    expect(sk.entries.map((e) => [e.key?.text, e.value])).toEqual([
      ["a", { count: 1, average: 5, total: 5 }],
      ["b", { count: 1, average: 7, total: 7 }],
    ]);
    const ak = result.map("@ak")!;
    expect(ak.kind).toBe("stats");
    expect(ak.entries[0]!.value).toEqual({ average: 3 });
  });

  it("reads hist and lhist maps, keyed and not, with open-ended buckets", () => {
    const neg = result.map("@neg")!;
    expect(neg.kind).toBe("histogram");
    if (neg.kind !== "histogram") return;
    expect(neg.scale).toBe("log2");
    expect(neg.entries[0]!.value.slice(0, 4)).toEqual([
      { max: -1, count: 1 },
      { min: 0, max: 0, count: 1 },
      { min: 1, max: 1, count: 1 },
      { min: 2, max: 3, count: 0 },
    ]);
    const lk = result.map("@lk")!;
    if (lk.kind !== "histogram") throw new Error("lk");
    expect(lk.scale).toBe("linear");
    expect(lk.entries.map((e) => [e.key!.text, e.value])).toEqual([
      ["1", [{ max: -1, count: 1 }]],
      ["2", [{ min: 10, count: 1 }]],
    ]);
    const hk = result.map("@hk")!;
    expect(hk.entries.map((e) => e.key!.text)).toEqual(["x", "y,z"]);
  });

  it("splits stack keys into frames, keeping offsets, context and perf-mode symbols", () => {
    const kt = result.map("@kt")!;
    const parts = kt.entries[0]!.key!.parts;
    expect(parts[0]).toEqual({ kind: "value", text: "c" });
    expect(parts[1]!.kind).toBe("stack");
    const tk = result.map("@tk")!.entries[0]!.key!.parts;
    expect(tk[1]).toEqual({ kind: "value", text: "comm" });
    const pk = StackCounts.fromMap(result.map("@pk")!);
    expect(pk.rows[0]!.frames[1]).toBe("__bpf_prog_test_run_raw_tp+106");
    const us = StackCounts.fromMap(result.map("@us")!);
    expect(us.rows[0]!.frames[0]).toBe("syscall+25");
    expect(us.rows[0]!.frames.slice(1).every((f) => /^0x[0-9a-f]+$/.test(f))).toBe(true);
    // A stack stored as a map value stays the printed string (8-space indent).
    expect(result.map("@ks")!.entries[0]!.value).toMatch(/^\n {8}\S+\+\d+\n/);
  });

  it("reads a real profile: every key is a stack, counts add up", () => {
    const text = data("host-profile-kstack.json");
    const profile = parseBpftraceJson(text);
    const stacks = profile.stacks();
    const rawLine = text.split("\n").find((l) => l.includes('"@": {'))!;
    const raw = JSON.parse(rawLine).data["@"] as Record<string, number>;
    expect(stacks.rows.length).toBe(Object.keys(raw).length);
    expect(stacks.total).toBe(Object.values(raw).reduce((a, b) => a + b, 0));
    // Samples taken in user mode have no kernel stack: bpftrace prints an empty key for them.
    for (const row of stacks.rows) {
      if (!row.frames.length) expect(raw[""]).toBe(row.count);
      for (const frame of row.frames) expect(frame).toMatch(/^(\S+\+\d+|0x[0-9a-f]+)$/);
    }
    expect(stacks.rows.filter((r) => r.frames.length).length).toBe(Object.keys(raw).filter((k) => k !== "").length);
    expect(profile.map("@bytes")!.kind).toBe("histogram");
    expect(profile.map("@comm")!.entries.length).toBeGreaterThan(0);
  });

  it("keeps every print of a map as a record and the last one as the map", () => {
    const interval = parseBpftraceJson(data("interval.json"));
    const prints = interval.records.filter((r) => r.type === "map" && r.map.name === "@c");
    expect(prints.length).toBe(4);
    const last = prints.at(-1)!;
    expect(interval.map("@c")).toBe(last.type === "map" ? last.map : undefined);
    expect(interval.output).toMatch(/^tick\ntick\ntick\n\d{4}\n$/);
  });

  it("keeps the printed key order and repeated keys (JSON.parse would lose both)", () => {
    const interval = parseBpftraceJson(data("interval.json"));
    const lastLine = data("interval.json").trim().split("\n").at(-1)!;
    const printedOrder = [...lastLine.matchAll(/"(\d+)": /g)].map((m) => m[1]);
    expect(interval.map("@per")!.entries.map((e) => e.key!.text)).toEqual(printedOrder);
    const repeated = parseBpftraceJson('{"type": "map", "data": {"@": {"": 1, "\\n    f+1\\n": 2, "": 3}}}\n');
    const stacks = repeated.stacks();
    expect(stacks.rows.length).toBe(3);
    expect(stacks.total).toBe(6);
  });

  it("names the line of a truncated record (strict) or keeps going (lenient)", () => {
    const text = data("all-types.json");
    const lines = text.split("\n");
    const index = lines.findIndex((l) => l.includes('"@neg"'));
    const cut = [...lines.slice(0, index), lines[index]!.slice(0, 80)].join("\n");
    expect(() => parseBpftraceJson(cut)).toThrow(BpftraceOutputError);
    try {
      parseBpftraceJson(cut);
    } catch (error) {
      expect((error as BpftraceOutputError).line).toBe(index + 1);
      expect((error as Error).message).toContain(`line ${index + 1}`);
    }
    const lenient = parseJsonRecords(cut, { strict: false });
    expect(lenient.problems).toEqual([{ line: index + 1, message: expect.stringContaining("not valid JSON") }]);
    expect(lenient.records.some((r) => r.type === "map")).toBe(true);
  });

  it("rejects records of the wrong shape with the line number", () => {
    const text = '{"type": "attached_probes", "data": {"probes": 1}}\n{"type": "map", "data": 5}\n';
    expect(() => parseBpftraceJson(text)).toThrow(/line 2: a map record needs an object/);
    expect(() => parseBpftraceJson('{"type": "hist", "data": {"@h": [{"min": 1}]}}')).toThrow(/line 1: a histogram bucket needs a number in count/);
    expect(() => parseBpftraceJson("[1,2]")).toThrow(/line 1: a record must be a JSON object/);
  });

  it("keeps records of unknown types", () => {
    const r = parseBpftraceJson('{"type": "tseries", "data": {"@x": 1}}\n');
    expect(r.records).toEqual([{ type: "unknown", recordType: "tseries", data: { "@x": 1 } }]);
  });

  it("reads lost_events and helper_error records", () => {
    const r = parseBpftraceJson(
      '{"type": "lost_events", "data": {"events": 12}}\n{"type": "helper_error", "helper": "map_update_elem", "retcode": -7, "line": 1, "col": 20}\n',
    );
    expect(r.lostEvents).toBe(12);
    expect(r.records[1]).toEqual({ type: "helper_error", helper: "map_update_elem", retcode: -7, line: 1, column: 20 });
  });
});

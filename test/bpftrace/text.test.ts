import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BpftraceOutputError, bucketLabel, parseBpftraceJson, parseBpftraceOutput, parseBpftraceText, StackCounts } from "../../lib/bpftrace/index.js";
import { textBlock } from "./bpftrace-writer.js";

const data = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");

describe("parseBpftraceText on bpftrace 0.17 text output", () => {
  const result = parseBpftraceText(data("all-types.txt"));

  it("reads the banner, printed lines and plain maps", () => {
    expect(result.attachedProbes).toBe(1);
    // "@tup: (1, two, 3)" from print(@tup) is a map line, the rest is printed text.
    expect(result.output).toMatch(/^a,b\n123\nstr\n\(1, x\)\nhi\n[\d.]+ [\d.]+ [\d.]+ \d+\/\d+ \d+\n$/);
    expect(result.map("@ak")!.entries.map((e) => [e.key!.text, e.value])).toEqual([["1", 3]]);
    expect(result.map("@ksym")!.entries[0]).toMatchObject({ key: { text: "_text" }, value: 1 });
    expect(result.map("@q")!.entries[0]!.key!.text).toBe('a"b\\c\td');
    expect(result.map("@tv")!.entries[0]!.value).toBe("(4, five)");
  });

  it("reads stats lines", () => {
    const sk = result.map("@sk")!;
    expect(sk.kind).toBe("stats");
    expect(sk.entries.map((e) => e.value)).toEqual([
      { count: 1, average: 5, total: 5 },
      { count: 1, average: 7, total: 7 },
    ]);
  });

  it("reads histograms, turning bucket labels back into ranges", () => {
    const neg = result.map("@neg")!;
    if (neg.kind !== "histogram") throw new Error("@neg is not a histogram");
    const buckets = neg.entries[0]!.value;
    expect(buckets[0]).toEqual({ max: -1, count: 1 });
    expect(buckets[1]).toEqual({ min: 0, max: 0, count: 1 });
    expect(buckets.at(-1)).toEqual({ min: 2 ** 31, max: 2 ** 32 - 1, count: 1 });
    expect(neg.scale).toBe("log2");
    const lk = result.map("@lk")!;
    if (lk.kind !== "histogram") throw new Error("@lk is not a histogram");
    expect(lk.entries.map((e) => e.value)).toEqual([[{ max: -1, count: 1 }], [{ min: 10, count: 1 }]]);
  });

  it("writes the same bucket labels bpftrace printed", () => {
    const text = data("all-types.txt");
    for (const map of result.histograms()) {
      for (const entry of map.entries) {
        for (const bucket of entry.value) {
          expect(text).toContain(`\n${bucketLabel(bucket, map.scale).padEnd(16)}${String(bucket.count).padStart(8)} |`);
        }
      }
    }
  });

  it("reads stack keys, alone and with other key arguments, and stacks printed as values", () => {
    expect(result.map("@kt")!.entries[0]!.key!.parts[0]).toEqual({ kind: "value", text: "c" });
    expect(result.map("@tk")!.entries[0]!.key!.parts[1]).toEqual({ kind: "value", text: "comm" });
    const pk = StackCounts.fromMap(result.map("@pk")!);
    expect(pk.rows[0]!.frames[1]).toBe("__bpf_prog_test_run_raw_tp+106");
    expect(result.map("@ks")!.entries[0]!.value).toMatch(/^\n {8}\S+\+\d+\n/);
  });

  it("reads the guest's task_tick_fair stacks, as JSON and as text", () => {
    const text = data("guest-task-tick-fair.txt");
    const fromText = parseBpftraceText(text).stacks();
    expect(fromText.rows.length).toBe(text.split("\n").filter((l) => l === "@[").length);
    const fromJson = parseBpftraceJson(data("guest-task-tick-fair.json")).stacks();
    for (const stacks of [fromText, fromJson]) {
      expect(stacks.rows.length).toBeGreaterThan(1);
      for (const row of stacks.rows) expect(row.frames[0]).toMatch(/^task_tick_fair\+\d+$/);
    }
    // The JSON run printed as bpftrace's text output reads back to the same stacks.
    const reprinted = parseBpftraceText(textBlock(parseBpftraceJson(data("guest-task-tick-fair.json")).map("@")!)).stacks();
    expect(reprinted.rows.map((r) => [r.frames, r.count])).toEqual(fromJson.rows.map((r) => [r.frames, r.count]));
  });

  it("reads a real profile, including repeated empty stacks", () => {
    const text = data("host-profile-kstack.txt");
    const stacks = parseBpftraceText(text).stacks();
    expect(stacks.rows.length).toBe(text.split("\n").filter((l) => l.startsWith("@[")).length);
    const counts = [...text.matchAll(/^(?:@\[|\])(?:\])?: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(stacks.total).toBe(counts.reduce((a, b) => a + b, 0));
    expect(stacks.rows.filter((r) => r.frames.length === 0).length).toBe(2);
  });

  it("names the line where an unclosed key starts", () => {
    const cut = "Attaching 1 probe...\n@[\n    f+1\n    g+2\n";
    expect(() => parseBpftraceText(cut)).toThrow(BpftraceOutputError);
    expect(() => parseBpftraceText(cut)).toThrow(/line 2: the key of @ starting here is cut off/);
    const lenient = parseBpftraceText(cut, { strict: false });
    expect(lenient.problems[0]!.line).toBe(2);
  });

  it("detects the format", () => {
    expect(parseBpftraceOutput(data("guest-task-tick-fair.json")).records[0]).toEqual({ type: "attached_probes", probes: 1 });
    expect(parseBpftraceOutput(data("guest-task-tick-fair.txt")).records[0]).toEqual({ type: "attached_probes", probes: 1 });
    expect(parseBpftraceOutput(data("guest-task-tick-fair.txt")).stacks().rows.length).toBeGreaterThan(1);
  });
});

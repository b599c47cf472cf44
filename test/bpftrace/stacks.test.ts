import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frameFunction, parseBpftraceJson, parseBpftraceText, StackCounts, type BpftraceMap } from "../../lib/bpftrace/index.js";
import { JUPYTER_DISPLAY, VEGALITE_MIME } from "../../lib/viz/index.js";

const data = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");
const tickStacks = () => parseBpftraceJson(data("guest-task-tick-fair.json")).stacks();

describe("StackCounts", () => {
  it("sorts stacks by count and computes shares", () => {
    const stacks = tickStacks();
    const counts = stacks.rows.map((r) => r.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(stacks.total).toBe(counts.reduce((a, b) => a + b, 0));
    expect(stacks.share(stacks.rows[0]!)).toBeCloseTo(stacks.rows[0]!.count / stacks.total);
    expect(stacks.top(2).length).toBe(2);
  });

  it("strips offsets and merges stacks that then read the same", () => {
    expect(frameFunction("task_tick_fair+187")).toBe("task_tick_fair");
    expect(frameFunction("syscall+25 (/usr/lib/libc.so.6)")).toBe("syscall");
    expect(frameFunction("0x7ffe0938998")).toBe("0x7ffe0938998");
    expect(frameFunction("a+b")).toBe("a+b");
    const stacks = parseBpftraceJson(
      '{"type": "map", "data": {"@": {"\\n    f+1\\n    main+4\\n": 3, "\\n    f+5\\n    main+4\\n": 2, "\\n    g+1\\n    main+9\\n": 4}}}\n',
    ).stacks();
    const stripped = stacks.withoutOffsets();
    expect(stripped.rows.map((r) => [r.frames, r.count])).toEqual([
      [["f", "main"], 5],
      [["g", "main"], 4],
    ]);
    const guest = tickStacks().withoutOffsets();
    expect(guest.total).toBe(tickStacks().total);
    for (const row of guest.rows) for (const f of row.frames) expect(f).not.toMatch(/\+\d+$/);
  });

  it("folds stacks the way stackcollapse-bpftrace.pl does: root first, offsets kept", () => {
    const stacks = tickStacks();
    const folded = stacks.folded();
    const lines = folded.trimEnd().split("\n");
    expect(lines.length).toBe(stacks.rows.length);
    for (const row of stacks.rows) expect(lines).toContain(`${[...row.frames].reverse().join(";")} ${row.count}`);
    for (const line of lines) expect(line).toMatch(/;task_tick_fair\+\d+ \d+$/);
    expect(stacks.folded({ offsets: false })).not.toMatch(/\+\d+[; ]/);
  });

  it("puts other key arguments at the root of folded stacks and drops empty stacks without context", () => {
    const all = parseBpftraceText(data("all-types.txt"));
    expect(StackCounts.fromMap(all.map("@tk")!).folded()).toMatch(/^comm;entry_SYSCALL_64_after_hwframe\+\d+;.*;_einittext\+\d+ 1\n$/);
    const profile = parseBpftraceText(data("host-profile-kstack.txt")).stacks();
    expect(profile.folded().split("\n").filter((l) => /^ \d+$/.test(l))).toEqual([]);
  });

  it("draws the flame graph with kbook's renderer, every frame escaped", () => {
    const stacks = tickStacks();
    const svg = stacks.flameGraph();
    expect(svg).toContain(`all (${stacks.total} counts, 100%)`);
    expect(svg).toContain("task_tick_fair+1");
    const evil = parseBpftraceJson('{"type": "map", "data": {"@": {"\\n    <script>x</script>+1\\n    main+2\\n": 3}}}\n').stacks();
    const evilSvg = evil.flameGraph();
    expect(evilSvg).not.toContain("<script>x");
    expect(evilSvg).toContain("&lt;script&gt;x&lt;/script&gt;+1");
  });

  it("refuses maps that are not stack counts, naming them", () => {
    const hist: BpftraceMap = { kind: "histogram", name: "@h", scale: "log2", entries: [] };
    expect(() => StackCounts.fromMap(hist)).toThrow(/Map @h is not a stack-keyed count map/);
    expect(() => parseBpftraceJson(data("interval.json")).stacks()).toThrow(/no stack-keyed map/);
  });

  it("shows a table of the top stacks, leaf first, with every frame escaped", () => {
    const evil = parseBpftraceJson('{"type": "map", "data": {"@": {"\\n    <script>alert(1)</script>+1\\n    caller+2\\n": 3, "\\n    b&c+1\\n": 1}}}\n').stacks();
    const bundle = evil[JUPYTER_DISPLAY]();
    const html = String(bundle["text/html"]);
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;+1");
    expect(html).toContain("b&amp;c+1");
    expect(html.indexOf("&lt;script&gt;")).toBeLessThan(html.indexOf("caller+2"));
    expect(html).toContain("75.0%");
    expect(String(bundle["text/plain"])).toContain("#1  3 (75.0%)");
  });

  it("charts counts per caller chain as Vega-Lite with an SVG fallback", async () => {
    const stacks = tickStacks();
    const spec = stacks.chartSpec(2) as { data: { values: { chain: string; count: number }[] } };
    const chains = stacks.withoutOffsets();
    expect(spec.data.values.map((v) => v.count)).toEqual([chains.rows[0]!.count, chains.rows[1]!.count, chains.rows.slice(2).reduce((s, r) => s + r.count, 0)]);
    // Every chain starts with the timer-interrupt path; labels skip to where the chains differ.
    const first = chains.rows[0]!.frames;
    const differs = first.findIndex((f, i) => chains.rows.slice(1, 2).some((r) => r.frames[i] !== f));
    expect(spec.data.values[0]!.chain).toBe(`#1 task_tick_fair ← … ← ${first.slice(differs, differs + 3).join(" ← ")}${first.length > differs + 3 ? " ← …" : ""}`);
    expect(spec.data.values.at(-1)!.chain).toBe(`other (${chains.rows.length - 2} chains)`);
    const chart = await stacks.chart(2);
    const bundle = chart.bundle();
    expect(bundle[VEGALITE_MIME]).toMatchObject({ $schema: "https://vega.github.io/schema/vega-lite/v5.json" });
    const svg = String(bundle["image/svg+xml"]);
    expect(svg).toMatch(/^<svg/);
    expect(svg.match(/aria-roledescription="bar"/g)!.length).toBe(3);
    expect(svg).toContain("#1 task_tick_fair");
  });
});

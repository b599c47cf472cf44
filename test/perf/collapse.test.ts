import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PerfScriptCollapser, collapsePerfScript, collapsePerfScriptFile, collapsePerfScriptStream } from "../../lib/perf/index.js";
import { CAPTURES, COLLAPSE_FLAGS, GUEST_DD_FOLDED, capturePath } from "./captures.js";
import { referenceCollapse } from "./reference-collapse.js";

// Byte-for-byte agreement with stackcollapse-perf.pl itself is conformance.test.ts (it needs
// FlameGraph's suite); here the captures are kbook's own.

describe("kbook's captures collapse as the line-by-line reference does", () => {
  const cases = CAPTURES.flatMap((name) => COLLAPSE_FLAGS.map((flag) => [name, flag] as const));
  it.each(cases)("%s --%s", (name, flag) => {
    const bytes = readFileSync(capturePath(name));
    // The reference knows --all as what it means: --kernel and --jit.
    const referenceOptions = flag === "all" ? { kernel: true, jit: true } : { [flag]: true };
    const expected = referenceCollapse(bytes.toString("latin1"), referenceOptions);
    expect(collapsePerfScript(bytes, { [flag]: true }).folded.toBuffer().toString("latin1")).toBe(expected);
  });

  it("as kbook collapse wrote them (guest-dd.folded)", () => {
    expect(collapsePerfScriptFile(capturePath("guest-dd"), { all: true }).folded.toBuffer().equals(readFileSync(GUEST_DD_FOLDED))).toBe(true);
  });
});

describe("streaming", () => {
  it("gives the same output whatever the chunk boundaries", () => {
    const input = readFileSync(capturePath("guest-dd"));
    const expected = readFileSync(GUEST_DD_FOLDED);
    for (const size of [1, 7, 100, 4096, 65537]) {
      const collapser = new PerfScriptCollapser({ all: true });
      for (let i = 0; i < input.length; i += size) collapser.push(input.subarray(i, i + size));
      expect(collapser.end().toBuffer().equals(expected)).toBe(true);
    }
  });

  it("collapses a file, a stream and a string alike", async () => {
    const path = capturePath("guest-sort-events");
    // Its cpu-clock samples, by thread: sort sorted in two threads.
    const options = { tid: true, eventFilter: "cpu-clock" };
    const expected = collapsePerfScriptFile(path, options).folded.toBuffer();
    expect(expected.toString()).toMatch(/^sort-(\d+)\/(?!\1;)\d+;/m);
    async function* chunks() {
      const bytes = readFileSync(path);
      for (let i = 0; i < bytes.length; i += 1000) yield bytes.subarray(i, i + 1000);
    }
    expect((await collapsePerfScriptStream(chunks(), options)).folded.toBuffer().equals(expected)).toBe(true);
    expect(collapsePerfScript(readFileSync(path, "latin1"), options).folded.toBuffer().equals(expected)).toBe(true);
  });
});

describe("semantics", () => {
  const sample = (header: string, ...frames: string[]) => `${header}\n${frames.map((f) => `\t${f}`).join("\n")}\n\n`;

  it("keeps only the first event by default and reports the others", () => {
    const text =
      sample("prog 10 [000] 1.0: 5 cycles:", "1 f (/bin/prog)") +
      sample("prog 10 [000] 1.1: 7 instructions:", "2 g (/bin/prog)") +
      sample("prog 10 [000] 1.2: 5 cycles:", "1 f (/bin/prog)");
    const result = collapsePerfScript(text);
    expect(result.folded.toString()).toBe("prog;f 10\n");
    expect(result.stats.event).toBe("cycles");
    expect(result.stats.filteredSamples).toBe(1);
    expect(result.warnings.join(" ")).toContain("instructions (1)");
    expect(collapsePerfScript(text, { eventFilter: "instructions" }).folded.toString()).toBe("prog;g 7\n");
  });

  it("replaces spaces in process names, strips offsets and names unknown symbols by module", () => {
    const text = sample("V8 WorkerThread 25607 4794564.109216: cycles:", "7f01 foo+0x1a (/usr/lib/libv8.so)", "7f02 [unknown] (/usr/lib/libc.so.6)", "0 [unknown] ([unknown])");
    expect(collapsePerfScript(text).folded.toString()).toBe("V8_WorkerThread;[unknown];[libc.so.6];foo 1\n");
    expect(collapsePerfScript(text, { addrs: true }).folded.toString()).toBe("V8_WorkerThread;[unknown <0>];[libc.so.6 <7f02>];foo 1\n");
  });

  it("splits inlined frames and annotates kernel and JIT frames", () => {
    const text = sample("java 1/2 1.0: cpu-clock:", "ffffffff8103 native_safe_halt+0xb ([kernel.kallsyms])", "7f01 Lcom/Foo;::bar (/tmp/perf-2.map)", "4005 outer->inner (/bin/app)");
    expect(collapsePerfScript(text, { all: true }).folded.toString()).toBe("java;outer;inner_[i];com/Foo:::bar_[j];native_safe_halt_[k] 1\n");
  });

  it("counts a final sample without its blank line only when asked", () => {
    const text = "prog 10 1.0: cpu-clock:\n\t1 f (/bin/prog)\n\nprog 10 1.1: cpu-clock:\n\t2 g (/bin/prog)";
    const dropped = collapsePerfScript(text);
    expect(dropped.folded.toString()).toBe("prog;f 1\n");
    expect(dropped.stats.truncatedFinalStack).toBe(true);
    expect(collapsePerfScript(text, { keepTruncated: true }).folded.toString()).toBe("prog;f 1\nprog;g 1\n");
  });

  it("keeps symbol bytes as they are (UTF-8 and latin1 alike)", () => {
    const bytes = Buffer.from("prog 10 1.0: cpu-clock:\n\t1 caf\u00e9_\u03bb (/bin/prog)\n\t2 x\xff (/bin/prog)\n\n", "utf8");
    const raw = Buffer.from("prog 10 1.0: cpu-clock:\n\t1 f\xe9 (/bin/prog)\n\n", "latin1");
    expect(collapsePerfScript(bytes).folded.toString()).toBe("prog;x\u00ff;caf\u00e9_\u03bb 1\n");
    expect(collapsePerfScript(raw).folded.toBuffer().equals(Buffer.from("prog;f\xe9 1\n", "latin1"))).toBe(true);
  });
});

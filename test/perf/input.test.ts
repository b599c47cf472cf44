import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors/index.js";
import { collapsePerfScript, collapsePerfScriptFile, detectTextKind } from "../../lib/perf/index.js";
import { GUEST_DD_FOLDED, capturePath } from "./captures.js";

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("bad input gives a clear UsageError", () => {
  it("empty input", () => {
    expect(usageError(() => collapsePerfScript("")).message).toMatch(/empty/);
  });

  it("binary garbage", () => {
    const bytes = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff, 0xfe]);
    expect(usageError(() => collapsePerfScript(bytes)).message).toMatch(/binary data.*7f 45 4c 46/);
  });

  it("a perf.data file", () => {
    const head = Buffer.concat([Buffer.from("PERFILE2"), Buffer.alloc(100)]);
    const error = usageError(() => collapsePerfScript(head));
    expect(error.message).toMatch(/perf\.data/);
    expect(error.hint).toMatch(/perf script -i/);
  });

  it("text that is not perf script names the first line that did not parse", () => {
    const error = usageError(() => collapsePerfScript("# a comment\n\nhello world\nsecond line\n"));
    expect(error.message).toContain('line 3 did not parse: "hello world"');
  });

  it("folded stacks given to collapse", () => {
    const error = usageError(() => collapsePerfScriptFile(GUEST_DD_FOLDED));
    expect(error.message).toContain('line 1 did not parse: "dd;[ld-linux-x86-64.so.2] 6688962"');
  });

  it("an event filter that matches nothing lists the events present", () => {
    const error = usageError(() => collapsePerfScriptFile(capturePath("guest-sort-events"), { eventFilter: "branches" }));
    expect(error.message).toMatch(/No samples of event 'branches'/);
    expect(error.hint).toBe("The events present are: page-faults (22), cpu-clock (453).");
  });

  it("only comments", () => {
    expect(usageError(() => collapsePerfScript("# just\n# comments\n")).message).toMatch(/no perf samples/);
  });
});

describe("warnings for input that still collapses", () => {
  it("a truncated final stack, and skipped lines", () => {
    const result = collapsePerfScript("prog 1 1.0: cpu-clock:\n\t1 f (/bin/p)\n\nnoise here\nprog 1 1.1: cpu-clock:\n\t2 g (/bin/p)");
    expect(result.folded.toString()).toBe("prog;f 1\n");
    expect(result.warnings.join("\n")).toMatch(/line 4: "noise here"/);
    expect(result.warnings.join("\n")).toMatch(/ends inside a sample/);
  });
});

describe("input kind detection", () => {
  it("tells perf script from folded stacks", () => {
    expect(detectTextKind(readFileSync(capturePath("host-node-jit"), "utf8"))).toBe("perf-script");
    expect(detectTextKind(readFileSync(GUEST_DD_FOLDED, "utf8"))).toBe("folded");
    expect(detectTextKind("just some words\n")).toBeUndefined();
  });
});

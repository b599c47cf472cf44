import { describe, expect, it } from "vitest";
import { ProgressReporter, formatDuration, parseDuration, type ProgressEvent } from "../../lib/progress/index.js";
import { UsageError } from "../../lib/errors/index.js";

describe("ProgressReporter.nested", () => {
  it("keeps the outer operation's clock and leaves its end to it", async () => {
    const events: ProgressEvent[] = [];
    const outer = new ProgressReporter((e) => events.push(e));
    outer.report("plan", "planning");
    await new Promise((r) => setTimeout(r, 30));
    // An inner operation (an image build inside a boot) reports with a reporter of its own.
    const inner = new ProgressReporter(outer.nested());
    inner.report("cached", "image is in the cache", { done: true });
    outer.report("ready", "guest up", { done: true });
    expect(events.map((e) => e.stage)).toEqual(["plan", "cached", "ready"]);
    expect(events.filter((e) => e.done).map((e) => e.stage)).toEqual(["ready"]);
    // The inner event is timed from the outer start, not from its own.
    expect(events[1]!.elapsedMs).toBeGreaterThanOrEqual(25);
    expect(events[1]!.elapsedMs).toBeLessThanOrEqual(events[2]!.elapsedMs);
  });

  it("is undefined without a listener, so nothing is computed for nobody", () => {
    expect(new ProgressReporter().nested()).toBeUndefined();
  });
});

describe("durations", () => {
  it("parses and formats", () => {
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1.5")).toBe(1500);
    expect(() => parseDuration("soon")).toThrow(UsageError);
    expect(formatDuration(1234)).toBe("1.2 s");
    expect(formatDuration(125_000)).toBe("2 min 05 s");
  });
});

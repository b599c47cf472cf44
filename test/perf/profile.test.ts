import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Profile, collapsePerfScriptFile } from "../../lib/perf/index.js";
import { GUEST_DD_FOLDED, capturePath } from "./captures.js";

/** Self and total per function, counted straight from folded text. */
function countByHand(folded: string, skipRoot: boolean) {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (const line of folded.trim().split("\n")) {
    const cut = line.lastIndexOf(" ");
    const count = Number(line.slice(cut + 1));
    const frames = line.slice(0, cut).split(";").slice(skipRoot ? 1 : 0).map((f) => f.replace(/_\[[kwij]\]$/, ""));
    all += count;
    if (frames.length) self.set(frames.at(-1)!, (self.get(frames.at(-1)!) ?? 0) + count);
    for (const f of new Set(frames)) total.set(f, (total.get(f) ?? 0) + count);
  }
  return { self, total, all };
}

describe("Profile", () => {
  const { folded } = collapsePerfScriptFile(capturePath("guest-dd"), { all: true });
  const profile = new Profile(folded, { source: "test capture", event: "cpu-clock", rootIsProcess: true });
  const text = readFileSync(GUEST_DD_FOLDED, "utf8");

  it("folded() is the collapsed text", () => {
    expect(profile.folded()).toBe(text);
    expect(new Profile(text).folded()).toBe(text);
  });

  it("top(n) has each function's self and total samples", () => {
    const hand = countByHand(text, true);
    const top = profile.top(15);
    expect(top).toHaveLength(15);
    for (const row of top) {
      expect(row.self).toBe(hand.self.get(row.name) ?? 0);
      expect(row.total).toBe(hand.total.get(row.name));
      expect(row.selfPercent).toBeCloseTo((100 * row.self) / hand.all, 10);
    }
    const selfs = [...hand.self.values()].sort((a, b) => b - a);
    expect(top.map((r) => r.self)).toEqual(selfs.slice(0, 15));
    const byTotal = profile.top(5, { by: "total" });
    const totals = [...hand.total.values()].sort((a, b) => b - a);
    expect(byTotal.map((r) => r.total)).toEqual(totals.slice(0, 5));
    // The process name is the root of perf stacks, not a function (counted, dd would lead).
    expect(byTotal.some((r) => r.name === "dd" || r.name === "swapper")).toBe(false);
  });

  it("renders itself and displays in a notebook as inline HTML, an SVG document and a text summary", () => {
    const svg = profile.svg({ title: "dd" });
    expect(svg).toContain("<svg");
    expect(svg).toContain(">dd</text>");
    expect(svg).toContain(">test capture</text>");
    const bundle = profile[Symbol.for("Jupyter.display")]();
    expect(Object.keys(bundle).sort()).toEqual(["image/svg+xml", "text/html", "text/plain"]);
    expect(bundle["image/svg+xml"]).toMatch(/^<\?xml/);
    // One rendering: the inline graph is the document's <svg> element, its script moved beside it.
    const html = bundle["text/html"]!;
    const id = /<svg [^>]*id="(fg-[a-z0-9]+)"/.exec(bundle["image/svg+xml"]!)![1]!;
    expect(html).toContain(`id="${id}"`);
    expect(html).not.toMatch(/<\?xml|<!DOCTYPE|text\/ecmascript|CDATA/);
    expect(html).toMatch(/<\/svg><\/div><div class="kbook-plain">.*<\/div><script>\/\*/s);
    expect(html).toContain(`Flame graph: ${profile.samples.toLocaleString("en-US")} samples (cpu-clock)`);
    expect(html).toContain(`<td>${profile.top(1)[0]!.name}</td>`);
    expect(bundle["text/plain"]).toMatch(/^Profile: [\d,]+ samples \(cpu-clock\), \d+ distinct stacks — test capture/);
    expect(bundle["text/plain"]).toContain(profile.top(1)[0]!.name);
  });
});

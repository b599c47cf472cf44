import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { histogramSvg, histogramText, parseBpftraceJson, parseBpftraceText } from "../../lib/bpftrace/index.js";
import { JUPYTER_DISPLAY, VEGALITE_MIME } from "../../lib/viz/index.js";

const data = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");

describe("bpftrace result displays", () => {
  const result = parseBpftraceJson(data("all-types.json"));

  it("shows every map and the printed text in one HTML report", () => {
    const bundle = result[JUPYTER_DISPLAY]();
    const html = String(bundle["text/html"]);
    for (const map of result.maps) expect(html).toMatch(new RegExp(`(<caption>|<code>)${map.name}[\\[:<]`));
    expect(html).toContain("a,b");
    // Histograms are drawn (one SVG per key), stats are tables.
    expect(html.match(/<svg/g)!.length).toBe(1 + 2 + 2);
    expect(html).toMatch(/<th[^>]*>average<\/th>/);
    expect(html).toContain("&quot;b\\c");
    expect(String(bundle["text/plain"])).toContain("bpftrace: 1 probe attached");
  });

  it("draws histograms with bpftrace's bucket labels", () => {
    const h = result.map("@hk")!;
    if (h.kind !== "histogram") throw new Error("not a histogram");
    const svg = histogramSvg(h.entries[1]!.value, h.scale, "@hk[y,z]");
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain("[64, 128)");
    expect(svg.match(/<rect/g)!.length).toBe(1);
    const profile = parseBpftraceText(data("host-profile-kstack.txt"));
    const bytes = profile.map("@bytes")!;
    if (bytes.kind !== "histogram") throw new Error("not a histogram");
    expect(histogramText(bytes.entries[0]!.value, bytes.scale)).toBe(
      data("host-profile-kstack.txt").split("@bytes: \n")[1]!.split("\n\n")[0]!.trimEnd(),
    );
  });

  it("lists every display as its own bundle, with the stack chart as Vega-Lite", async () => {
    const profile = parseBpftraceJson(data("host-profile-kstack.json"));
    const bundles = await profile.displays();
    const vega = bundles.filter((b) => VEGALITE_MIME in b);
    expect(vega.length).toBe(1);
    expect(bundles.some((b) => String(b["text/html"] ?? "").includes("distinct stacks"))).toBe(true);
    expect(bundles.filter((b) => String(b["image/svg+xml"] ?? "").startsWith("<svg")).length).toBeGreaterThanOrEqual(2);
    const flame = bundles.find((b) => String(b["image/svg+xml"] ?? "").includes("kbook-flamegraph"))!;
    expect(flame["text/plain"]).toBe(profile.stacks().folded());
  });

  it("writes a standalone page and JSON", async () => {
    const profile = parseBpftraceJson(data("guest-task-tick-fair.json"));
    const page = await profile.htmlPage("task_tick_fair");
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain("caller chains");
    expect(page).toContain('class="kbook-flamegraph"');
    expect(page).not.toContain("<?xml");
    const json = JSON.parse(JSON.stringify(profile));
    expect(json.stacks[0].rows[0].frames[0]).toMatch(/^task_tick_fair\+/);
    expect(json.attachedProbes).toBe(1);
  });
});

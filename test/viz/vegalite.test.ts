import { describe, expect, it } from "vitest";
import { JUPYTER_DISPLAY, VEGALITE_MIME, renderVegaLiteSvg, vegaLiteChart } from "../../lib/viz/index.js";

const spec = {
  data: { values: [{ name: "<script>alert(1)</script>", n: 3 }, { name: "b & c", n: 5 }] },
  mark: "bar",
  encoding: { y: { field: "name", type: "nominal" }, x: { field: "n", type: "quantitative" } },
};

describe("Vega-Lite charts", () => {
  it("renders SVG on the server with the data's text escaped", async () => {
    const svg = await renderVegaLiteSvg(spec);
    expect(svg).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("b &amp; c");
    // One path per bar in the rect mark group.
    expect(svg.match(/aria-roledescription="bar"/g)!.length).toBe(2);
  });

  it("builds a bundle with the spec (v5 schema), the SVG fallback and text, and no HTML", async () => {
    const chart = await vegaLiteChart(spec, "two bars");
    const bundle = chart[JUPYTER_DISPLAY]();
    expect(Object.keys(bundle).sort()).toEqual(["image/svg+xml", "text/plain", VEGALITE_MIME].sort());
    expect(VEGALITE_MIME).toBe("application/vnd.vegalite.v5+json");
    expect((bundle[VEGALITE_MIME] as { $schema: string }).$schema).toBe("https://vega.github.io/schema/vega-lite/v5.json");
    expect(bundle["text/plain"]).toBe("two bars");
    expect(String(bundle["image/svg+xml"])).toMatch(/^<svg/);
  });
});

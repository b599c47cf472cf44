import { describe, expect, it } from "vitest";
import { renderPlotSvg } from "../../lib/viz/index.js";
import { Plot } from "../../lib/viz/plot.js";

describe("Observable Plot on the server", () => {
  it("renders a bar chart to standalone, escaped SVG", () => {
    const data = [
      { x: "<img src=x onerror=alert(1)>", y: 2 },
      { x: "b", y: 5 },
      { x: "c", y: 1 },
    ];
    const svg = renderPlotSvg({ marks: [Plot.barY(data, { x: "x", y: "y" })] });
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).not.toContain("<img");
    expect(svg).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(svg.match(/<rect/g)!.length).toBe(3);
  });

  it("returns the SVG even when Plot wraps it in a figure", () => {
    const svg = renderPlotSvg({ title: "t", marks: [Plot.barY([1, 2, 3])] });
    expect(svg).toMatch(/^<svg/);
  });
});

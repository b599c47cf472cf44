import { describe, expect, it } from "vitest";
import { rawHtml, renderHtmlPage, renderHtmlTable, shareBar } from "../../lib/viz/index.js";

describe("HTML tables", () => {
  it("escapes every cell and header, and keeps RawHtml as is", () => {
    const html = renderHtmlTable(
      [{ label: "<b>key</b>" }, { label: "n", align: "right" }],
      [
        ["<script>alert(1)</script>", 3],
        [rawHtml("<em>ok</em>"), null],
      ],
      { caption: 'a "caption" & more' },
    );
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;b&gt;key&lt;/b&gt;");
    expect(html).toContain("<em>ok</em>");
    expect(html).toContain("a &quot;caption&quot; &amp; more");
    expect(html.match(/<tr>/g)!.length).toBe(3);
  });

  it("counts the rows it leaves out", () => {
    const rows = Array.from({ length: 12 }, (_, i) => [i]);
    const html = renderHtmlTable([{ label: "i" }], rows, { maxRows: 5 });
    expect(html.match(/<tr>/g)!.length).toBe(7); // header, 5 rows, footer
    expect(html).toContain("7 more rows not shown");
  });

  it("draws share bars clamped to 0..100%", () => {
    expect(shareBar(0.25).html).toContain("25.0%");
    expect(shareBar(7).html).toContain("100.0%");
    expect(shareBar(Number.NaN).html).toContain("0.0%");
  });

  it("wraps a body into a page with an escaped title", () => {
    const page = renderHtmlPage("<x>", "<p>body</p>");
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain("<title>&lt;x&gt;</title>");
    expect(page).toContain("<p>body</p>");
  });
});

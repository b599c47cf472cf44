import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { MarkdownRenderer, safeLinkUrl } from "../../lib/export/markdown.js";
import { PNG_PIXEL } from "./notebooks.js";

describe("markdown cells", () => {
  test("raw HTML, block or inline, is shown as text", () => {
    const html = new MarkdownRenderer().render("<script>alert(1)</script>\n\ntext <img src=x onerror=alert(1)> and <b>bold</b>");
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  test("links keep safe schemes only", () => {
    const html = new MarkdownRenderer().render(
      "[a](https://kernel.org) [b](javascript:alert(1)) [c](JaVa\tScRiPt:alert(1)) [d](data:text/html,x) [e](#intro) [f](other.ipynb)",
    );
    expect(html).toContain('<a href="https://kernel.org" rel="noopener noreferrer">a</a>');
    expect(html).not.toMatch(/javascript|data:text/i);
    expect(html).toContain('<a href="#intro">e</a>');
    expect(html).toContain('<a href="other.ipynb">f</a>');
    expect(safeLinkUrl(" java\nscript:x")).toBeUndefined();
    expect(safeLinkUrl("mailto:a@b")).toBe("mailto:a@b");
  });

  test("headings get unique ids across cells and are collected for the contents", () => {
    const renderer = new MarkdownRenderer({ usedIds: new Set(["notebook"]) });
    renderer.render("# Notebook\n## Setup `qemu` <x>");
    renderer.render("## Setup `qemu` <x>\n### O3 frames\n### Cell 1");
    expect(renderer.headings.map((h) => [h.depth, h.id, h.text])).toEqual([
      [1, "notebook-2", "Notebook"],
      [2, "setup-qemu-x", "Setup qemu <x>"],
      [2, "setup-qemu-x-2", "Setup qemu <x>"],
      [3, "section-o3-frames", "O3 frames"],
      [3, "section-cell-1", "Cell 1"],
    ]);
  });

  test("code fences are highlighted, unknown languages escaped", () => {
    const renderer = new MarkdownRenderer();
    expect(renderer.render("```c\nint x = 1 < 2;\n```")).toContain('<span class="hljs-type">int</span>');
    expect(renderer.render("```nosuchlang\n<script>\n```")).toContain("&lt;script&gt;");
  });

  test("attachments and local images are inlined; remote images become links", () => {
    const dir = mkdtempSync(join(tmpdir(), "kbook-md-"));
    writeFileSync(join(dir, "pixel.png"), Buffer.from(PNG_PIXEL, "base64"));
    const renderer = new MarkdownRenderer();
    let html: string;
    try {
      html = renderer.render("![att](attachment:p.png) ![local](pixel.png) ![remote](https://example.com/x.png) ![missing](nope.png) ![outside](../x.png)", {
        baseDir: dir,
        attachments: { "p.png": { "image/png": PNG_PIXEL } },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(html).toContain(`<img src="data:image/png;base64,${PNG_PIXEL}" alt="att">`);
    expect(html).toContain(`<img src="data:image/png;base64,${PNG_PIXEL}" alt="local">`);
    expect(html).toContain('<a class="image-link" href="https://example.com/x.png" rel="noopener noreferrer">[image: remote]</a>');
    expect(html).not.toMatch(/<img[^>]*(example\.com|nope\.png|x\.png)/);
    expect(html).toContain('<a class="image-link" href="../x.png" rel="noopener noreferrer">[image: outside]</a>');
  });
});

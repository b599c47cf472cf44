/**
 * The exported article notebook in real headless Chromium, from file://: flame graphs search and
 * zoom (each on its own), the Vega-Lite chart is drawn, nothing hostile runs, the console stays
 * clean and the page asks the network for nothing.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { exportNotebook } from "../../lib/export/index.js";
import { openInChromium, type OpenedPage } from "./browser.js";
import { kbookDisplays } from "../frontends/outputs.js";
import { articleNotebook, code, hostileNotebook, notebook } from "./notebooks.js";

let dir: string;
let articleUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kbook-export-"));
  const file = join(dir, "article.html");
  await writeFile(file, (await exportNotebook(await articleNotebook())).html);
  articleUrl = pathToFileURL(file).href;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Requests other than the page itself and data: URLs. */
function networkRequests(opened: OpenedPage): string[] {
  return opened.requests.filter((url) => url !== articleUrl && !url.startsWith("data:"));
}

describe("the exported article in Chromium", () => {
  let opened: OpenedPage;
  beforeAll(async () => {
    opened = await openInChromium(articleUrl);
    await opened.page.waitForSelector(".kb-vega.kb-vega-drawn, .kb-vega.kb-vega-failed", { timeout: 30_000 });
  }, 60_000);
  afterAll(async () => opened?.close());

  const graph = (n: number) => opened.page.locator("svg.kbook-flamegraph").nth(n);
  const frameRect = (n: number, name: string) => graph(n).locator(".fg-frames > g", { has: opened.page.locator(`title:text-matches("^${name} \\\\(")`) }).locator("rect").first();

  test("both flame graphs have frames", async () => {
    expect(await opened.page.locator("svg.kbook-flamegraph").count()).toBe(2);
    expect(await graph(0).locator(".fg-frames > g").count()).toBeGreaterThan(20);
    expect(await graph(1).locator(".fg-frames > g").count()).toBeGreaterThan(5);
    expect(await graph(0).locator("title", { hasText: "<script>alert(1)</script> (7 samples" }).count()).toBe(1);
  });

  test("a typed search highlights matches in that graph only", async () => {
    opened.promptAnswers.push("^task_tick");
    await graph(0).locator(".fg-search").click();
    await expect.poll(() => graph(0).locator(".fg-matched").textContent()).toMatch(/^Matched: \d+(\.\d)?%$/);
    expect(await frameRect(0, "task_tick_fair").getAttribute("fill")).toBe("rgb(230,0,230)");
    expect(await frameRect(0, "update_curr").getAttribute("fill")).not.toBe("rgb(230,0,230)");
    expect(await frameRect(1, "task_tick_fair").getAttribute("fill")).not.toBe("rgb(230,0,230)");
    expect((await graph(1).locator(".fg-matched").textContent())?.trim()).toBe("");
    expect(opened.dialogs).toEqual([expect.stringMatching(/^prompt: Search frames/)]);
  });

  test("clicking a frame zooms into it, in that graph only", async () => {
    const before = Number(await frameRect(0, "vfs_write").getAttribute("width"));
    await frameRect(0, "vfs_write").click();
    const after = Number(await frameRect(0, "vfs_write").getAttribute("width"));
    expect(after).toBeGreaterThan(before * 1.5);
    expect(await graph(0).locator(".fg-unzoom").getAttribute("class")).toBe("fg-unzoom");
    expect(await graph(0).locator(".fg-frames > g.fg-hide").count()).toBeGreaterThan(0);
    expect(await graph(1).locator(".fg-frames > g.fg-hide").count()).toBe(0);
    expect(await graph(1).locator(".fg-unzoom").getAttribute("class")).toBe("fg-unzoom fg-hide");
  });

  test("the Vega-Lite chart is drawn by vega-embed, replacing its static SVG", async () => {
    const chart = opened.page.locator(".kb-vega");
    expect(await chart.getAttribute("class")).toBe("kb-vega kb-vega-drawn");
    expect(await chart.locator(".kb-vega-live.vega-embed svg.marks").count()).toBe(1);
    expect(await chart.locator(".kb-vega-live .mark-rect path").count()).toBe(3);
    expect(await chart.locator(":scope > svg").count()).toBe(0);
  });

  test("the table of contents links to the sections", async () => {
    const links = await opened.page.locator("nav.toc a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    for (const href of links) expect(await opened.page.locator(href!).count()).toBe(1);
  });

  test("nothing hostile ran, nothing was logged, nothing was fetched", async () => {
    expect(await opened.page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(opened.dialogs.filter((d) => d.startsWith("alert"))).toEqual([]);
    expect(opened.errors).toEqual([]);
    expect(networkRequests(opened)).toEqual([]);
  });
});

describe("with JavaScript off", () => {
  test("the chart's static SVG and the flame graphs' frames are still there", async () => {
    const opened = await openInChromium(articleUrl, { javaScriptEnabled: false });
    try {
      expect(await opened.page.locator(".kb-vega > svg.marks .mark-rect path").count()).toBe(3);
      expect(await opened.page.locator("svg.kbook-flamegraph .fg-frames > g").count()).toBeGreaterThan(25);
      expect(networkRequests(opened)).toEqual([]);
    } finally {
      await opened.close();
    }
  }, 60_000);
});

describe("hostile outputs", () => {
  async function open(trust: boolean): Promise<{ pwned: unknown; opened: OpenedPage }> {
    const file = join(dir, `hostile-${trust}.html`);
    await writeFile(file, (await exportNotebook(hostileNotebook(), { trust })).html);
    const opened = await openInChromium(pathToFileURL(file).href);
    await opened.page.mouse.move(10, 10);
    await opened.page.waitForTimeout(300);
    return { pwned: await opened.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), opened };
  }

  test("run nothing and fetch nothing, in markdown, HTML and SVG outputs", async () => {
    const { pwned, opened } = await open(false);
    try {
      expect(pwned).toBeUndefined();
      expect(opened.dialogs).toEqual([]);
      expect(opened.requests.filter((url) => !url.startsWith("file:") && !url.startsWith("data:"))).toEqual([]);
    } finally {
      await opened.close();
    }
  }, 60_000);

  test("control: exported with --trust, the same payloads do run (so the check above can see them)", async () => {
    const { pwned, opened } = await open(true);
    try {
      expect(pwned).toBeDefined();
    } finally {
      await opened.close();
    }
  }, 60_000);
});

describe("kbook's own displays, whose flame graphs are text/html", () => {
  for (const trust of [false, true]) {
    test(`stay interactive when exported${trust ? " with --trust" : ""}, their stand-ins hidden`, async () => {
      const d = await kbookDisplays();
      const nb = notebook([code("profile", [d.dd]), code("stacks.flameGraphDisplay()", [d.stackFlameGraph]), code("result", [d.bpftraceReport])]);
      const exported = await exportNotebook(nb, { trust });
      expect(exported.notes.filter((n) => /script/.test(n))).toEqual([]);
      const file = join(dir, `displays-${trust}.html`);
      await writeFile(file, exported.html);
      const opened = await openInChromium(pathToFileURL(file).href);
      try {
        const graphs = opened.page.locator("svg.kbook-flamegraph");
        expect(await graphs.evaluateAll((els) => els.map((e) => Boolean((e as unknown as { kbookFlameGraph?: object }).kbookFlameGraph)))).toEqual([true, true]);
        const vfsWrite = graphs.nth(0).locator(".fg-frames > g", { has: opened.page.locator("title", { hasText: /^vfs_write \(/ }) }).first();
        await vfsWrite.click();
        expect(await vfsWrite.locator("rect").getAttribute("width")).toBe("1180.0");
        const shown = (selector: string) => opened.page.locator(selector).evaluateAll((els) => els.map((e) => (e as HTMLElement).offsetHeight > 0));
        expect(await shown(".kbook-flamegraph-output .kbook-plain")).toEqual([false, false]);
        expect((await shown(".kbook-bpftrace .kbook-rich")).every(Boolean)).toBe(true);
        expect((await shown(".kbook-bpftrace .kbook-plain")).some(Boolean)).toBe(false);
        expect(opened.errors).toEqual([]);
        expect(opened.requests.filter((url) => url !== pathToFileURL(file).href && !url.startsWith("data:"))).toEqual([]);
      } finally {
        await opened.close();
      }
    }, 60_000);
  }
});

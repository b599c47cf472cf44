/**
 * The nbconvert route: Debian's nbconvert 6.5 (/usr/bin/python3; the python3 on PATH has no
 * Jupyter) with assets/export/nbconvert_config.py. Without the config, nbconvert's clean_html
 * filter strips the flame graph to bare text; with it the graphs keep their frames and kbook's
 * script, hostile markup stays inert, and the page works offline in Chromium.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { assetPath } from "../../lib/paths.js";
import { openInChromium } from "./browser.js";
import { kbookDisplays } from "../frontends/outputs.js";
import { articleNotebook, code, HOSTILE, hostileNotebook, notebook as nbNotebook } from "./notebooks.js";

/** The documented command line, as an argv. */
function nbconvertArgv(notebook: string, outputDir: string, config = true): string[] {
  return ["-m", "nbconvert", "--to", "html", ...(config ? ["--config", assetPath("export", "nbconvert_config.py")] : []), "--output-dir", outputDir, notebook];
}

let dir: string;
let withConfig: string;
let withoutConfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kbook-nbconvert-"));
  const notebook = join(dir, "article.ipynb");
  await writeFile(notebook, JSON.stringify(await articleNotebook(), null, 1));
  await execa("/usr/bin/python3", nbconvertArgv(notebook, join(dir, "with")));
  await execa("/usr/bin/python3", nbconvertArgv(notebook, join(dir, "without"), false));
  withConfig = await readFile(join(dir, "with", "article.html"), "utf8");
  withoutConfig = await readFile(join(dir, "without", "article.html"), "utf8");
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("jupyter nbconvert --to html", () => {
  test("control: nbconvert's own clean_html reduces the flame graphs to text", () => {
    expect(withoutConfig).toContain("kbook-flamegraph");
    const graphs = withoutConfig.split('data-mime-type="image/svg+xml"').slice(1);
    expect(graphs.length).toBeGreaterThan(0);
    for (const graph of graphs) expect(graph.slice(0, graph.indexOf("</svg>"))).not.toMatch(/<rect|<g\b/);
  });

  test("with kbook's config the graphs keep frames and kbook's script, and nothing else runs", () => {
    expect(withConfig.match(/<svg [^>]*class="kbook-flamegraph"/g)).toHaveLength(2);
    expect((withConfig.match(/<rect /g) ?? []).length).toBeGreaterThan(40);
    expect(withConfig.match(/<script type="text\/ecmascript">/g)).toHaveLength(2);
    expect(withConfig).not.toContain(HOSTILE);
    expect(withConfig).toContain("&lt;script&gt;alert(1)&lt;/script&gt; (7 samples");
    expect(withConfig).not.toMatch(/onerror=/);
    expect(withConfig).toContain('<table class="kbook-table">');
    expect(withConfig).not.toContain("REMOVED-CELL-OUTPUT");
    expect(withConfig).not.toContain("REMOVED-OUTPUT");
    expect(withConfig).not.toContain("secret setup code");
    expect(withConfig).toContain("visible output of hidden code");
    // nbconvert has no Vega renderer: the chart's SVG from the bundle is what it shows.
    expect(withConfig).toMatch(/<svg [^>]*class="marks"/);
  });

  test("the page works offline in Chromium: search and zoom, no alert, no network", async () => {
    const url = pathToFileURL(join(dir, "with", "article.html")).href;
    const opened = await openInChromium(url);
    try {
      const graph = opened.page.locator("svg.kbook-flamegraph").first();
      expect(await graph.locator(".fg-frames > g").count()).toBeGreaterThan(20);
      opened.promptAnswers.push("vfs_");
      await graph.locator(".fg-search").click();
      await expect.poll(() => graph.locator(".fg-matched").textContent()).toMatch(/^Matched: /);
      expect(await graph.locator('.fg-frames rect[fill="rgb(230,0,230)"]').count()).toBeGreaterThan(0);
      await graph.locator(".fg-frames > g", { has: opened.page.locator('title:text-matches("^ksys_write \\\\(")') }).click();
      expect(await graph.locator(".fg-frames > g.fg-hide").count()).toBeGreaterThan(0);
      const other = opened.page.locator("svg.kbook-flamegraph").nth(1);
      expect(await other.locator(".fg-frames > g.fg-hide").count()).toBe(0);
      expect(await other.locator('.fg-frames rect[fill="rgb(230,0,230)"]').count()).toBe(0);
      expect(await opened.page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
      expect(opened.dialogs.filter((d) => !d.startsWith("prompt"))).toEqual([]);
      expect(opened.requests.filter((r) => r !== url && !r.startsWith("data:"))).toEqual([]);
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  }, 60_000);

  test("hostile markdown, HTML and SVG stay inert (control: without the config they run)", async () => {
    const notebook = join(dir, "hostile.ipynb");
    await writeFile(notebook, JSON.stringify(hostileNotebook()));
    const results: Record<string, unknown> = {};
    for (const config of [true, false]) {
      const out = join(dir, `hostile-${config}`);
      await execa("/usr/bin/python3", nbconvertArgv(notebook, out, config));
      const url = pathToFileURL(join(out, "hostile.html")).href;
      const opened = await openInChromium(url);
      try {
        await opened.page.mouse.move(10, 10);
        await opened.page.waitForTimeout(300);
        results[String(config)] = await opened.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
        if (config) {
          expect(opened.dialogs).toEqual([]);
          expect(opened.requests.filter((r) => r !== url && !r.startsWith("data:"))).toEqual([]);
        }
      } finally {
        await opened.close();
      }
    }
    expect(results.true).toBeUndefined();
    expect(results.false).toBeDefined();
  }, 90_000);
});

describe("kbook's own displays (flame graphs as text/html) through nbconvert with kbook's config", () => {
  test("the flame graph runs its script beside the <svg>, the stand-ins are hidden, the histograms drawn", async () => {
    const d = await kbookDisplays();
    const notebook = join(dir, "displays.ipynb");
    await writeFile(notebook, JSON.stringify(nbNotebook([code("profile", [d.dd]), code("result", [d.bpftraceReport])])));
    await execa("/usr/bin/python3", nbconvertArgv(notebook, join(dir, "displays")));
    const opened = await openInChromium(pathToFileURL(join(dir, "displays", "displays.html")).href);
    try {
      const state = await opened.page.evaluate(() => ({
        ready: [...document.querySelectorAll("svg.kbook-flamegraph")].map((s) => Boolean((s as unknown as { kbookFlameGraph?: object }).kbookFlameGraph)),
        plain: [...document.querySelectorAll(".kbook-plain")].map((e) => (e as HTMLElement).offsetHeight),
        rich: [...document.querySelectorAll(".kbook-rich")].map((e) => (e as HTMLElement).offsetHeight),
      }));
      expect(state.ready).toEqual([true]);
      expect(state.plain.length).toBeGreaterThan(1);
      expect(state.plain.every((h) => h === 0)).toBe(true);
      expect(state.rich.every((h) => h > 100)).toBe(true);
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  }, 60_000);
});

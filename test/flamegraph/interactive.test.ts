/**
 * The SVG's own script, in a real browser (Debian's Chromium through playwright-core): hover,
 * zoom, reset, search with matched percentage, case toggle, keyboard shortcuts — with two
 * graphs (and one graph twice) on one HTML page, each minding its own business.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderFlameGraph } from "../../lib/flamegraph/index.js";

const CHROMIUM = "/usr/bin/chromium";
const A = "main;alpha;beta 60\nmain;alpha;gamma 20\nmain;Beta 20\nmain;<script>alert(1)</script> 1\n";
const B = "init;one;two 5\ninit;three 15\n";

function strip(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\n<!DOCTYPE[^>]*>\n/, "");
}

describe.skipIf(!existsSync(CHROMIUM))("interactive flame graphs in a browser", () => {
  const dir = mkdtempSync(join(tmpdir(), "kbook-fg-browser-"));
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  let answer = "";

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const svgA = renderFlameGraph(A, { id: "graph-a", title: "A" });
    const svgB = renderFlameGraph(B, { id: "graph-b", title: "B" });
    const html = `<!doctype html><html><body>${strip(svgA)}<p>between</p>${strip(svgB)}<p>again</p>${strip(svgB)}</body></html>`;
    writeFileSync(join(dir, "page.html"), html);
    writeFileSync(join(dir, "alone.svg"), svgA);
    page = await browser.newPage({ viewport: { width: 1300, height: 1200 } });
    page.on("dialog", async (dialog) => {
      dialogs.push(`${dialog.type()}:${dialog.message()}`);
      if (dialog.type() === "prompt") await dialog.accept(answer);
      else await dialog.dismiss();
    });
    await page.goto(`file://${join(dir, "page.html")}`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const text = (sel: string) => page.locator(sel).first().textContent();
  const frame = (graph: string, name: string) => page.locator(`${graph} .fg-frames > g`).filter({ has: page.locator(`title:text-matches("^${name} \\\\(")`) }).first();

  it("sets up every graph, the repeated one included, and runs no frame name as script", async () => {
    const ready = await page.evaluate(() => [...document.querySelectorAll("svg.kbook-flamegraph")].map((s) => Boolean((s as unknown as { kbookFlameGraph?: object }).kbookFlameGraph)));
    expect(ready).toEqual([true, true, true]);
    expect(dialogs).toEqual([]);
  });

  it("hover shows details in that graph only", async () => {
    await frame("#graph-a", "beta").hover();
    expect(await text("#graph-a .fg-details")).toBe("Function: beta (60 samples, 59.41%)");
    expect((await text("#graph-b .fg-details"))?.trim()).toBe("");
  });

  it("click zooms one graph, and reset restores it", async () => {
    const before = await frame("#graph-a", "alpha").locator("rect").getAttribute("width");
    expect(before).toBe(((80 / 101) * 1180).toFixed(1));
    await frame("#graph-a", "alpha").click();
    const state = await page.evaluate(() => {
      const a = document.querySelector("#graph-a")!;
      const g = (name: string) => [...a.querySelectorAll(".fg-frames > g")].find((e) => e.querySelector("title")!.textContent!.startsWith(name + " "))!;
      return {
        alphaWidth: g("alpha").querySelector("rect")!.getAttribute("width"),
        betaClass: g("Beta").getAttribute("class"),
        mainClass: g("main").getAttribute("class"),
        unzoom: a.querySelector(".fg-unzoom")!.getAttribute("class"),
        bFrames: [...document.querySelectorAll("#graph-b .fg-frames > g")].map((e) => e.getAttribute("class") ?? ""),
      };
    });
    expect(state.alphaWidth).toBe("1180.0");
    expect(state.betaClass).toBe("fg-hide");
    expect(state.mainClass).toBe("fg-parent");
    expect(state.unzoom).toBe("fg-unzoom");
    expect(state.bFrames.every((c) => c === "")).toBe(true);
    await page.locator("#graph-a .fg-unzoom").click();
    expect(await frame("#graph-a", "alpha").locator("rect").getAttribute("width")).toBe(before);
    expect(await page.locator("#graph-a .fg-unzoom").getAttribute("class")).toBe("fg-unzoom fg-hide");
  });

  it("Ctrl-F searches the graph under the pointer, with the matched share; Ctrl-I toggles case", async () => {
    await frame("#graph-b", "three").hover();
    answer = "^t";
    await page.keyboard.press("Control+f");
    expect(dialogs.at(-1)).toMatch(/^prompt:Search frames/);
    const fills = async (graph: string) =>
      page.evaluate((g) => [...document.querySelectorAll(`${g} .fg-frames rect`)].map((r) => r.getAttribute("fill")), graph);
    expect((await fills("#graph-b")).filter((f) => f === "rgb(230,0,230)")).toHaveLength(2); // two, three
    expect(await text("#graph-b .fg-matched")).toBe("Matched: 100%");
    expect((await fills("#graph-a")).includes("rgb(230,0,230)")).toBe(false);

    await frame("#graph-a", "beta").hover();
    answer = "^beta$";
    await page.keyboard.press("Control+f");
    expect(await text("#graph-a .fg-matched")).toBe("Matched: 59.4%");
    await page.keyboard.press("Control+i");
    expect(await text("#graph-a .fg-matched")).toBe("Matched: 79.2%");
    expect(await page.locator("#graph-a .fg-ic").getAttribute("class")).toBe("fg-ic fg-show");
    await page.keyboard.press("Escape");
    expect((await text("#graph-a .fg-matched"))?.trim()).toBe("");
    expect(await text("#graph-b .fg-matched")).toBe("Matched: 100%");
  });

  it("works as a standalone SVG document too", async () => {
    const alone = await browser.newPage();
    alone.on("dialog", (d) => d.accept("gamma"));
    await alone.goto(`file://${join(dir, "alone.svg")}`);
    await alone.locator(".fg-frames > g").filter({ has: alone.locator('title:text-matches("^alpha ")') }).click();
    expect(await alone.locator(".fg-unzoom").getAttribute("class")).toBe("fg-unzoom");
    await alone.keyboard.press("Control+f");
    expect(await alone.locator(".fg-matched").textContent()).toBe("Matched: 19.8%");
    await alone.close();
  });
});

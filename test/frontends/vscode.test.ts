/**
 * kbook's displays as VS Code's built-in notebook renderer shows them (page.ts imitates it:
 * innerHTML, then each script re-made from its innerText and appended to the output's element),
 * in headless Chromium: flame graphs stay interactive, charts show their SVG, lists filter.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, flameFrame, flameGraphStates, MARKUP_AS_TEXT, openFrontends, visibleText, type Frontends } from "./harness.js";
import { HOSTILE_FRAME, kbookDisplays } from "./outputs.js";

describe.skipIf(!existsSync(CHROMIUM))("kbook outputs in VS Code's notebook renderer", () => {
  let f: Frontends;
  let d: Awaited<ReturnType<typeof kbookDisplays>>;
  const at = 'section[data-label="vscode"]';

  beforeAll(async () => {
    [f, d] = await Promise.all([openFrontends(), kbookDisplays()]);
    await f.vscode("vscode", [d.dd, d.jit, d.stackFlameGraph, d.hostile, d.chart, d.bpftraceReport, d.probes, d.vm, d.gdbStop]);
  }, 60_000);

  afterAll(async () => {
    await f?.close();
  });

  it("shows the HTML of flame graphs, reports and lists, and the chart's SVG", async () => {
    const mimes = await f.page.locator(`${at} .vscode-output`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.mime));
    expect(mimes).toEqual(["text/html", "text/html", "text/html", "text/html", "image/svg+xml", "text/html", "text/html", "text/html", "text/html"]);
    const chart = f.page.locator(`${at} .vscode-output`).nth(4);
    expect(await chart.locator("svg path, svg rect").count()).toBeGreaterThan(4);
    expect(await chart.innerText()).toContain("counts per caller chain");
    expect(await f.page.locator(`${at} .kbook-bpftrace .kbook-rich svg`).first().isVisible()).toBe(true);
    expect(await visibleText(f.page, at)).not.toMatch(MARKUP_AS_TEXT);
  });

  it("sets up each flame graph from the re-made script, though it runs outside the <svg>", async () => {
    expect((await flameGraphStates(f.page, at)).map((s) => s.ready && s.shown)).toEqual([true, true, true, true]);
    const titles = await f.page.locator(`${at} svg.kbook-flamegraph`).nth(3).locator(".fg-frames title").allTextContents();
    expect(titles).toContain(`${HOSTILE_FRAME} (30 samples, 75.00%)`);
    expect(f.dialogs).toEqual([]);
  });

  it("hover, zoom and search work in one graph and leave the others alone", async () => {
    await flameFrame(f.page, at, 1, "Builtins_JSEntry").hover();
    let states = await flameGraphStates(f.page, at);
    expect(states[1]!.details).toMatch(/^Function: Builtins_JSEntry \([\d,]+ samples, \d+\.\d\d%\)$/);
    expect(states[0]!.details).toBe("");

    const width = () => flameFrame(f.page, at, 1, "Builtins_JSEntry").locator("rect").getAttribute("width");
    expect(Number(await width())).toBeLessThan(1180);
    await flameFrame(f.page, at, 1, "Builtins_JSEntry").click();
    expect(await width()).toBe("1180.0");
    expect(Number(await flameFrame(f.page, at, 0, "vfs_write").locator("rect").getAttribute("width"))).toBeLessThan(1180);

    f.promptAnswers.push("^JS:");
    await f.page.locator(`${at} svg.kbook-flamegraph`).nth(0).locator(".fg-search").click();
    states = await flameGraphStates(f.page, at);
    expect(states[0]!.matched).toBe("Matched: 0.0% (no frame)");
    f.promptAnswers.push("^JS:");
    await f.page.locator(`${at} svg.kbook-flamegraph`).nth(1).locator(".fg-unzoom").click();
    await f.page.locator(`${at} svg.kbook-flamegraph`).nth(1).locator(".fg-search").click();
    states = await flameGraphStates(f.page, at);
    expect(states[1]!.matched).toMatch(/^Matched: \d+\.\d%$/);
    expect(Number(/[\d.]+/.exec(states[1]!.matched)![0])).toBeGreaterThan(50);
  });

  it("where the sandbox ignores prompt() (VS Code's webview has no allow-modals), Search opens a field above the graph", async () => {
    // A sandboxed frame's prompt() shows nothing and returns null at once: the same, here.
    await f.page.evaluate(() => {
      (window as unknown as { realPrompt: typeof window.prompt }).realPrompt = window.prompt;
      window.prompt = () => null;
    });
    const graph = f.page.locator(`${at} svg.kbook-flamegraph`).nth(2);
    await graph.locator(".fg-search").click();
    const field = f.page.locator(`${at} input.kbook-flamegraph-search`);
    expect(await field.count()).toBe(1);
    await field.fill("tick");
    await field.press("Enter");
    const states = await flameGraphStates(f.page, at);
    expect(states[2]!.matched).toMatch(/^Matched: \d+(\.\d)?%$/);
    expect(Number(/[\d.]+/.exec(states[2]!.matched)![0])).toBeGreaterThan(0);
    expect(states[0]!.matched).toBe("Matched: 0.0% (no frame)"); // the first graph's own search, untouched
    await field.press("Escape");
    expect(await field.count()).toBe(0);
    expect((await flameGraphStates(f.page, at))[2]!.matched).toBe("");
    await f.page.evaluate(() => {
      window.prompt = (window as unknown as { realPrompt: typeof window.prompt }).realPrompt;
    });
  });

  it("filters the probe list as you type, and logs no errors", async () => {
    const list = f.page.locator(`${at} .kbook-searchable`);
    await list.locator("input").fill("vfs_read");
    expect(await list.locator("li").allTextContents()).toEqual(["kprobe:vfs_read", "kprobe:vfs_readv"]);
    expect(f.dialogs.every((dialog) => dialog.startsWith("prompt: Search frames"))).toBe(true);
    expect(f.errors).toEqual([]);
  });
});

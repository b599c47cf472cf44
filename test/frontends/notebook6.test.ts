/**
 * The classic Notebook 6.4 (Debian's jupyter-notebook) for real: its server starts kbook's
 * kernel for a notebook whose kernelspec is kbook, headless Chromium opens the notebook page,
 * runs the cell the way a reader does (select it, Shift-Enter), and the profile the cell ends
 * with shows as an interactive flame graph in the output area — drawn inline, hover shows a
 * frame's details, a click zooms — with no page errors. The profile is the article's dd, collapsed
 * from its recorded `perf script` (test/perf/testdata), so no VM runs.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openInChromium, type OpenedPage } from "../export/browser.js";
import { capturePath } from "../perf/captures.js";
import { CHROMIUM, flameFrame, flameGraphStates } from "./harness.js";
import { hasJupyterApp, startJupyter, type RunningJupyter } from "./jupyter-server.js";

const CELL = [
  'import { readFileSync } from "node:fs";',
  'import { collapsePerfScript, Profile } from "kbook";',
  "",
  `const { folded, stats } = collapsePerfScript(readFileSync(${JSON.stringify(capturePath("guest-dd"))}), { all: true });`,
  'const dd = new Profile(folded, { source: "guest: perf record -a -g -- dd if=/dev/zero of=/tmp/test.dat bs=1024K count=100", event: stats.event, rootIsProcess: true, colors: "java" });',
  "dd",
].join("\n");

function notebook(): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "kbook", display_name: "TypeScript (kbook)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
    },
    cells: [{ id: "profile", cell_type: "code", metadata: {}, execution_count: null, source: CELL, outputs: [] }],
  });
}

/**
 * Notebook 6 always asks for ipywidgets' nbextension ("HARDCODED WIDGETS HACK" in its main.js)
 * and carries on without it; where ipywidgets is not installed, that one request fails with a 404.
 * Those are the page's own errors, not kbook's, and the only ones left out.
 */
const WIDGETS_EXTENSION = "/nbextensions/widgets/notebook/js/extension.js";

function kbookErrors(errors: readonly string[], requests: readonly string[]): string[] {
  let widgetMisses = requests.filter((url) => new URL(url).pathname === WIDGETS_EXTENSION).length;
  return errors.filter((error) => {
    if (error.includes(WIDGETS_EXTENSION)) return false;
    // Chromium's message for a 404 names no URL: one is allowed per request for the extension.
    if (error.includes("Failed to load resource: the server responded with a status of 404") && widgetMisses > 0) {
      widgetMisses--;
      return false;
    }
    return true;
  });
}

/** The classic Notebook's page object (notebook/static/notebook/js), as much as the test reads. */
interface ClassicJupyter {
  notebook: { kernel?: { info_reply?: { implementation?: string } }; get_cell(i: number): { output_area: { outputs: { output_type: string; data?: Record<string, unknown> }[] } } };
}

describe.skipIf(!hasJupyterApp("notebook") || !existsSync(CHROMIUM))("kbook in the classic Notebook 6.4, in Chromium", () => {
  let jupyter: RunningJupyter;
  let browser: OpenedPage;
  const output = "#notebook .cell .output_area";

  beforeAll(async () => {
    jupyter = await startJupyter("notebook");
    writeFileSync(join(jupyter.root, "profile.ipynb"), notebook());
    browser = await openInChromium(`${jupyter.baseUrl}notebooks/profile.ipynb?token=${jupyter.token}`);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await jupyter?.stop();
  });

  it("starts kbook's kernel for the notebook and shows it idle", async () => {
    const { page } = browser;
    // The page's kernel has had its kernel_info_reply and the indicator shows idle.
    const implementation = await page.waitForFunction(
      () => {
        const replied = (window as unknown as { Jupyter?: ClassicJupyter }).Jupyter?.notebook?.kernel?.info_reply?.implementation;
        return document.querySelector("#kernel_indicator_icon")?.classList.contains("kernel_idle_icon") && replied;
      },
      null,
      { timeout: 60_000 },
    );
    expect(await implementation.jsonValue()).toBe("kbook");
    expect(await page.locator(".kernel_indicator_name").textContent()).toBe("TypeScript (kbook)");
    expect(jupyter.kernelPids()).toHaveLength(1);
  }, 60_000);

  it("runs the cell with Shift-Enter and shows the flame graph inline, its script run", async () => {
    const { page } = browser;
    await page.locator("#notebook .cell .input_area").first().click();
    await page.keyboard.press("Shift+Enter");
    await page.locator(`${output} svg.kbook-flamegraph`).waitFor({ timeout: 60_000 });
    // The richest output the Notebook knows: text/html, the graph inline (not an <img> of the SVG).
    const outputs = await page.evaluate(() => (window as unknown as { Jupyter: ClassicJupyter }).Jupyter.notebook.get_cell(0).output_area.outputs);
    expect(outputs.map((o) => [o.output_type, Object.keys(o.data ?? {}).sort()])).toEqual([["execute_result", ["image/svg+xml", "text/html", "text/plain"]]]);
    expect(await page.locator(`${output} .output_html svg.kbook-flamegraph`).count()).toBe(1);
    expect(await page.locator(`${output} img`).count()).toBe(0);
    // The execute_reply numbers the cell.
    await page.waitForFunction(() => /\[1\]/.test(document.querySelector("#notebook .input_prompt")?.textContent ?? ""));
    const states = await flameGraphStates(page, output);
    expect(states).toEqual([{ ready: true, shown: true, details: "", matched: "" }]);
    // The sanitized stand-in gives way to the graph.
    expect(await page.locator(`${output} .kbook-plain`).evaluateAll((els) => els.map((e) => (e as HTMLElement).offsetHeight))).toEqual([0]);
  }, 90_000);

  it("hovering a frame shows its details", async () => {
    const { page } = browser;
    await flameFrame(page, output, 0, "vfs_write").hover();
    const [state] = await flameGraphStates(page, output);
    expect(state!.details).toMatch(/^Function: vfs_write \([\d,]+ samples, \d+\.\d\d%\)$/);
  });

  it("clicking a frame zooms to it, and Reset Zoom restores it", async () => {
    const { page } = browser;
    const width = () => flameFrame(page, output, 0, "vfs_write").locator("rect").getAttribute("width");
    const before = await width();
    expect(Number(before)).toBeLessThan(1180);
    await flameFrame(page, output, 0, "vfs_write").click();
    expect(await width()).toBe("1180.0");
    await page.locator(`${output} svg.kbook-flamegraph .fg-unzoom`).click();
    expect(await width()).toBe(before);
  });

  it("raised no page errors and opened no dialogs", () => {
    expect(kbookErrors(browser.errors, browser.requests)).toEqual([]);
    expect(browser.dialogs).toEqual([]);
  });
});

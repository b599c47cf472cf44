/**
 * kbook's displays in JupyterLab 4, rendered by JupyterLab's own RenderMimeRegistry and
 * OutputArea (with the Vega 5 extension JupyterLab ships) in headless Chromium: trusted outputs
 * are interactive, untrusted ones (JupyterLab's sanitizer) read as plain summaries and run nothing.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, flameFrame, flameGraphStates, MARKUP_AS_TEXT, openFrontends, visibleText, type DisplayOutput, type Frontends } from "./harness.js";
import { VEGALITE_MIME } from "../../lib/viz/mime.js";
import { HOSTILE_FRAME, kbookDisplays } from "./outputs.js";

type Displays = Awaited<ReturnType<typeof kbookDisplays>>;

/** The outputs of a notebook, in order; the dd profile's output is shown twice. */
function notebookOutputs(d: Displays): DisplayOutput[] {
  return [d.dd, d.jit, d.dd, d.stackFlameGraph, d.hostile, d.chart, d.stackTable, d.bpftraceReport, d.probes, d.vm, d.gdbStop, d.gdbSourceStop, ...d.bpftraceDisplays];
}
const count = (d: Displays, has: (o: DisplayOutput) => boolean) => notebookOutputs(d).filter(has).length;
const isFlameGraph = (o: DisplayOutput) => String(o.data["text/html"] ?? "").includes('class="kbook-flamegraph-output"');
const isChart = (o: DisplayOutput) => VEGALITE_MIME in o.data;

describe.skipIf(!existsSync(CHROMIUM))("kbook outputs in JupyterLab 4", () => {
  let f: Frontends;
  let d: Displays;
  const trusted = 'section[data-label="trusted"]';
  const untrusted = 'section[data-label="untrusted"]';

  beforeAll(async () => {
    [f, d] = await Promise.all([openFrontends(), kbookDisplays()]);
    await f.jupyterlab("trusted", notebookOutputs(d), { trusted: true });
    await f.jupyterlab("untrusted", notebookOutputs(d), { trusted: false });
    // Vega draws asynchronously (JupyterLab loads vega-embed on first use).
    const charts = count(d, isChart);
    await f.page.locator(`${trusted} .jp-RenderedVegaLite canvas`).nth(charts - 1).waitFor();
    await f.page.locator(`${untrusted} .jp-RenderedVegaLite canvas`).nth(charts - 1).waitFor();
  }, 60_000);

  afterAll(async () => {
    await f?.close();
  });

  it("picks the interactive HTML for flame graphs and Vega-Lite for the chart, every output drawn", async () => {
    // JupyterLab's Vega renderer marks its output by class, the others by data-mime-type.
    const mimes = await f.page
      .locator(`${trusted} .jp-OutputArea-output`)
      .evaluateAll((els) => els.map((e) => (e.classList.contains("jp-RenderedVegaLite") ? "vega-lite" : e.getAttribute("data-mime-type"))));
    expect(mimes.slice(0, 6)).toEqual(["text/html", "text/html", "text/html", "text/html", "text/html", "vega-lite"]);
    const heights = await f.page.locator(`${trusted} .jp-OutputArea-output`).evaluateAll((els) => els.map((e) => (e as HTMLElement).offsetHeight));
    expect(heights).toHaveLength(notebookOutputs(d).length);
    expect(heights.every((h) => h > 10), `output heights ${heights}`).toBe(true);
    // The static summaries give way to the graphs.
    const plain = await f.page.locator(`${trusted} .kbook-plain`).evaluateAll((els) => els.map((e) => (e as HTMLElement).offsetHeight));
    expect(plain.length).toBeGreaterThan(count(d, isFlameGraph));
    expect(plain.every((h) => h === 0)).toBe(true);
  });

  it("runs every flame graph's script, the output shown twice included, and no frame name as markup", async () => {
    const states = await flameGraphStates(f.page, trusted);
    expect(states.map((s) => s.ready && s.shown)).toEqual(Array(count(d, isFlameGraph)).fill(true));
    expect(await visibleText(f.page, trusted)).not.toContain("This HTML output contains inline scripts");
    const titles = await f.page.locator(`${trusted} svg.kbook-flamegraph`).nth(4).locator(".fg-frames title").allTextContents();
    expect(titles).toContain(`${HOSTILE_FRAME} (30 samples, 75.00%)`);
    expect(await f.page.locator(`${trusted} svg.kbook-flamegraph img, ${trusted} svg.kbook-flamegraph b`).count()).toBe(0);
    expect(f.dialogs).toEqual([]);
  });

  it("hover shows a frame's details in that graph only", async () => {
    await flameFrame(f.page, trusted, 0, "vfs_write").hover();
    const states = await flameGraphStates(f.page, trusted);
    expect(states[0]!.details).toMatch(/^Function: vfs_write \([\d,]+ samples, \d+\.\d\d%\)$/);
    expect(states.slice(1).map((s) => s.details)).toEqual(Array(count(d, isFlameGraph) - 1).fill(""));
  });

  it("click zooms one graph, leaving its second showing as it was", async () => {
    const width = (i: number) => flameFrame(f.page, trusted, i, "vfs_write").locator("rect").getAttribute("width");
    const before = await width(0);
    await flameFrame(f.page, trusted, 0, "vfs_write").click();
    expect(await width(0)).toBe("1180.0");
    expect(Number(before)).toBeLessThan(1180);
    expect(await width(2)).toBe(before);
    await f.page.locator(`${trusted} svg.kbook-flamegraph`).nth(0).locator(".fg-unzoom").click();
    expect(await width(0)).toBe(before);
  });

  it("Search asks for a pattern and reports the matched share of samples", async () => {
    const expected = d.ddProfile.top(200, { by: "total" }).find((r) => r.name === "clear_page_rep")!.totalPercent;
    f.promptAnswers.push("^clear_page_rep$");
    await f.page.locator(`${trusted} svg.kbook-flamegraph`).nth(2).locator(".fg-search").click();
    expect(f.dialogs.at(-1)).toMatch(/^prompt: Search frames/);
    const states = await flameGraphStates(f.page, trusted);
    const matched = /^Matched: (\d+\.\d)%$/.exec(states[2]!.matched);
    expect(matched, states[2]!.matched).not.toBeNull();
    expect(Math.abs(Number(matched![1]) - expected)).toBeLessThan(0.15);
    expect(states[0]!.matched).toBe("");
  });

  it("draws the Vega-Lite chart with JupyterLab's vega-lite 5.6, without warnings", async () => {
    const inked = await f.page.locator(`${trusted} .jp-RenderedVegaLite canvas`).first().evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && (data[i]! < 200 || data[i + 2]! < 200)) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(2000);
    expect(await f.page.locator(`${trusted} .jp-RenderedVegaLite`).first().innerText()).not.toMatch(/error/i);
    expect(f.warnings.filter((w) => /warn|deprecat|invalid/i.test(w))).toEqual([]);
  });

  it("shows bpftrace histograms as charts in its report, and the probe list filters as you type", async () => {
    const report = `${trusted} .kbook-bpftrace`;
    expect(await f.page.locator(`${report} .kbook-rich svg`).count()).toBeGreaterThan(3);
    expect(await f.page.locator(`${report} .kbook-rich`).first().isVisible()).toBe(true);
    expect(await f.page.locator(`${report} .kbook-plain`).first().isVisible()).toBe(false);
    const list = f.page.locator(`${trusted} .kbook-searchable`);
    await list.locator("input").fill("write");
    expect(await list.locator(".kbook-count").textContent()).toBe("2 of 9");
    expect(await list.locator("li").allTextContents()).toEqual(["kprobe:vfs_write", "kprobe:vfs_writev"]);
    await list.locator("input").fill("script");
    expect(await list.locator("li").allTextContents()).toEqual(["kprobe:<script>alert(3)</script>"]);
  });

  it("untrusted: flame graphs read as their summaries, and nothing shows as markup", async () => {
    expect(await f.page.locator(`${untrusted} svg.kbook-flamegraph, ${untrusted} script`).count()).toBe(0);
    const text = await visibleText(f.page, untrusted);
    expect(text).not.toMatch(MARKUP_AS_TEXT);
    const summaries = await f.page.locator(`${untrusted} .kbook-plain`).evaluateAll((els) => els.filter((e) => (e as HTMLElement).offsetHeight > 0).length);
    expect(summaries).toBeGreaterThan(count(d, isFlameGraph));
    const top = d.ddProfile.top(1)[0]!;
    expect(text).toContain(`Flame graph: ${d.ddProfile.samples.toLocaleString("en-US")} samples (cpu-clock`);
    expect(text).toContain(`${top.name}\t${top.self.toLocaleString("en-US")}\t${top.selfPercent.toFixed(2)}`);
    expect(text).toContain("Flame graph of @: 4 counts, 4 distinct stacks");
    expect(text).toContain("The interactive flame graph shows when the output is trusted");
    // The hostile names are text, and ran nothing.
    expect(text).toContain(HOSTILE_FRAME);
    expect(text).toContain("<b>not bold</b>");
  });

  it("untrusted: histograms read as bpftrace's text, other outputs as tables and text, none blank", async () => {
    const text = await visibleText(f.page, untrusted);
    expect(text).toMatch(/@hk\[x\] \(hist, 1 values\)\n\[2, 4\)\s+1 \|@+\|/);
    expect(text).toContain("@sk\nkey\tcount\taverage\ttotal\na\t1\t5\t5");
    expect(text).toContain("VM debian · TCG · running, up in 14.2 s");
    expect(text).toMatch(/stopped in do_sys_openat2 at 0xffffffff81363fa0 \(breakpoint 2\)/);
    expect(text).toContain("kprobe:vfs_write\nkprobe:vfs_open");
    const mimes = await f.page.locator(`${untrusted} .jp-OutputArea-output`).evaluateAll((els) => els.map((e) => e.getAttribute("data-mime-type")));
    // SVG is not safe for JupyterLab: the histogram bundles fall back to their text.
    expect(mimes.filter((m) => m === "image/svg+xml")).toEqual([]);
    const heights = await f.page.locator(`${untrusted} .jp-OutputArea-output`).evaluateAll((els) => els.map((e) => (e as HTMLElement).offsetHeight));
    expect(heights.every((h) => h > 10), `output heights ${heights}`).toBe(true);
    // The chart is drawn: JupyterLab's Vega renderer is safe for untrusted output.
    const charts = count(d, isChart);
    expect(await f.page.locator(`${untrusted} .jp-RenderedVegaLite canvas`).count()).toBe(charts);
  });

  it("a gdb stop shows its source line and its registers or arguments, trusted and untrusted", async () => {
    for (const scope of [trusted, untrusted]) {
      const stops = await f.page.locator(`${scope} .kbook-gdb-stop`).evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText));
      expect(stops, scope).toHaveLength(2);
      expect(stops[0]).toMatch(/stopped in do_sys_openat2 at 0xffffffff81363fa0/);
      expect(stops[0]).toMatch(/\$rsi\s+0x7fffc800efda/);
      expect(stops[0]).toContain("__x64_sys_openat");
      expect(stops[1]).toContain("target.c:10");
      expect(stops[1]).toContain("int c = a + b;");
      expect(stops[1]).toMatch(/a\s+3\n?.*b\s+4/s);
      expect(stops[1]).not.toMatch(MARKUP_AS_TEXT);
    }
    // The current line is marked.
    expect(await f.page.locator(`${trusted} .kbook-gdb-stop mark`).first().innerText()).toContain("int c = a + b;");
  });

  it("untrusted: no script ran, and the page logged no errors", async () => {
    expect(f.dialogs.filter((d) => !d.startsWith("prompt: Search frames"))).toEqual([]);
    expect(await f.page.locator(`${untrusted} .kbook-searchable input`).isDisabled()).toBe(true);
    expect(f.errors).toEqual([]);
  });

  it("a re-run cell's new flame graphs start afresh, the same display again included", async () => {
    await f.jupyterlab("rerun", [d.dd], { trusted: true });
    const rerun = 'section[data-label="rerun"]';
    expect((await flameGraphStates(f.page, rerun)).map((s) => s.ready)).toEqual([true]);
    await flameFrame(f.page, rerun, 0, "vfs_write").click();
    await f.rerun("rerun", [d.jit, d.dd]);
    await f.page.locator(`${rerun} svg.kbook-flamegraph`).nth(1).waitFor();
    expect((await flameGraphStates(f.page, rerun)).map((s) => s.ready)).toEqual([true, true]);
    // The dd graph is the same markup as before the re-run (same ids), drawn anew: not zoomed.
    const width = await flameFrame(f.page, rerun, 1, "vfs_write").locator("rect").getAttribute("width");
    expect(Number(width)).toBeLessThan(1180);
    // A mouseover event rather than the pointer: the page is long and still settling at its end.
    await flameFrame(f.page, rerun, 1, "vfs_write").dispatchEvent("mouseover");
    expect((await flameGraphStates(f.page, rerun))[1]!.details).toMatch(/^Function: vfs_write /);
    expect(f.errors).toEqual([]);
  });
});

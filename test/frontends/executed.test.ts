/**
 * A kbook notebook executed for real (the built kernel, through nbclient with `kbook run`),
 * its saved outputs then shown by JupyterLab 4's own renderers in Chromium: as the user who ran it
 * sees them (trusted: the flame graphs hover, zoom and stay independent, the chart draws) and as
 * someone who opens the file without running it (untrusted: readable summaries, nothing runs).
 * The cells build their displays from recorded captures, so no VM is needed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinText } from "../../lib/export/notebook.js";
import { packageRoot } from "../../lib/paths.js";
import { capturePath } from "../perf/captures.js";
import { CHROMIUM, flameFrame, flameGraphStates, MARKUP_AS_TEXT, openFrontends, visibleText, type Frontends } from "./harness.js";

const cli = join(packageRoot(), "dist", "lib", "cli", "main.js");
const tickJson = join(packageRoot(), "test", "bpftrace", "testdata", "guest-task-tick-fair.json");

const cell = (source: string) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source });

function notebook(): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "kbook", display_name: "TypeScript (kbook)", language: "typescript" } },
    cells: [
      cell(
        `import { readFileSync } from "node:fs";\nimport { Profile, collapsePerfScriptFile, parseBpftraceOutput } from "kbook";\n` +
          `const { folded } = collapsePerfScriptFile(${JSON.stringify(capturePath("guest-dd"))}, { all: true });\n` +
          `const dd = new Profile(folded, { source: "guest: perf record -a -g -- dd", rootIsProcess: true });\n` +
          `const tick = parseBpftraceOutput(readFileSync(${JSON.stringify(tickJson)}, "utf8"));`,
      ),
      cell("dd"),
      cell("display(tick.stacks().flameGraphDisplay(), { raw: true })"),
      cell("await tick.stacks().chart()"),
      cell("dd"),
    ].map((c, i) => ({ ...c, id: `cell-${i}` })),
  };
}

interface SavedOutput {
  output_type: string;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/**
 * What the notebook server does when it reads the file (nbformat's rejoin_lines): the lists of
 * lines a saved text output is split into become one string again before JupyterLab sees it.
 */
function rejoinLines(output: SavedOutput): SavedOutput {
  const data = Object.fromEntries(Object.entries(output.data ?? {}).map(([type, value]) => [type, type.endsWith("json") ? value : joinText(value)]));
  return { ...output, data };
}

describe.skipIf(!existsSync(CHROMIUM))("an executed kbook notebook in JupyterLab 4", () => {
  const dir = mkdtempSync(join(tmpdir(), "kbook-executed-"));
  let f: Frontends;
  let outputs: SavedOutput[];
  const trusted = 'section[data-label="ran-it"]';
  const untrusted = 'section[data-label="opened-it"]';

  beforeAll(async () => {
    const file = join(dir, "flow.ipynb");
    writeFileSync(file, JSON.stringify(notebook(), null, 1));
    const run = await execa(process.execPath, [cli, "run", file, "--timeout", "120"], { reject: false, cwd: dir });
    if (run.exitCode !== 0) throw new Error(`kbook run failed:\n${run.stdout}\n${run.stderr}`);
    const executed = JSON.parse(readFileSync(file, "utf8")) as { cells: { outputs: SavedOutput[] }[] };
    outputs = executed.cells
      .flatMap((c) => c.outputs)
      .filter((o) => o.output_type === "execute_result" || o.output_type === "display_data")
      .map(rejoinLines);
    f = await openFrontends();
    await f.jupyterlab("ran-it", outputs, { trusted: true });
    await f.jupyterlab("opened-it", outputs, { trusted: false });
    await f.page.locator(`${trusted} .jp-RenderedVegaLite canvas`).first().waitFor();
  }, 180_000);

  afterAll(async () => {
    await f?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("saved each display with its interactive HTML, SVG and text", () => {
    expect(outputs).toHaveLength(4);
    for (const i of [0, 1, 3]) expect(Object.keys(outputs[i]!.data!).sort()).toEqual(["image/svg+xml", "text/html", "text/plain"]);
    expect(Object.keys(outputs[2]!.data!)).toContain("application/vnd.vegalite.v5+json");
  });

  it("trusted: three graphs set up, hover and zoom act on one graph only, the chart draws", async () => {
    const before = await flameGraphStates(f.page, trusted);
    expect(before.map((s) => s.ready && s.shown)).toEqual([true, true, true]);
    await flameFrame(f.page, trusted, 0, "vfs_write").hover();
    const hovered = await flameGraphStates(f.page, trusted);
    expect(hovered[0]!.details).toMatch(/^Function: vfs_write \(/);
    expect(hovered[2]!.details).toBe(before[2]!.details); // the same profile, shown again, untouched
    const frame = flameFrame(f.page, trusted, 0, "vfs_write").locator("rect");
    const width = Number(await frame.getAttribute("width"));
    await flameFrame(f.page, trusted, 0, "vfs_write").click();
    expect(Number(await frame.getAttribute("width"))).toBeGreaterThan(width);
    const again = flameFrame(f.page, trusted, 2, "vfs_write").locator("rect");
    expect(Number(await again.getAttribute("width"))).toBe(width);
    expect(await f.page.locator(`${trusted} .jp-RenderedVegaLite canvas`).count()).toBe(1);
    expect(f.errors).toEqual([]);
  });

  it("untrusted: the summaries read as text, no graph, no script, no markup shown", async () => {
    expect(await f.page.locator(`${untrusted} .jp-RenderedHTML svg`).count()).toBe(0);
    expect(await f.page.locator(`${untrusted} script`).count()).toBe(0);
    const text = await visibleText(f.page, untrusted);
    expect(text).toMatch(/Flame graph: [\d,]+ samples/);
    expect(text).toMatch(/native_safe_halt\t[\d,]+\t45\.88/); // the idle loop, the hottest by self samples
    expect(text).not.toMatch(MARKUP_AS_TEXT);
    expect(f.dialogs).toEqual([]);
  });
});

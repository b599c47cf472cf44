/**
 * `npm run bench:export`: the time of `kbook export` on a notebook holding a 50k-frame flame
 * graph (target ≤ 2 s) and the size of the HTML it writes. The folded stacks are generated
 * (a seeded random call tree, kernel-like names), rendered by kbook's renderer with
 * --minwidth 0 so every frame is drawn, and placed in a notebook next to a Vega-Lite chart so
 * the page carries the whole vega runtime too. Timed: the in-process export (median of runs)
 * and the whole CLI process, node startup included. Wall time on this shared 2-core machine
 * depends on what else runs, so CPU time (user + system) is reported next to it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { exportNotebook } from "../lib/export/index.js";
import { packageRoot } from "../lib/paths.js";
import { renderFlameGraphDetailed } from "../lib/flamegraph/index.js";
import { vegaLiteBundle } from "../lib/viz/index.js";
import { syntheticFolded } from "./synthetic.js";

const TARGET_FRAMES = 50_000;


async function main(): Promise<void> {
  const folded = syntheticFolded(TARGET_FRAMES);
  const graph = renderFlameGraphDetailed(folded, { minwidth: 0, title: "bench: 50k frames" });
  const chart = await vegaLiteBundle(
    { data: { values: [{ f: "a", n: 1 }, { f: "b", n: 2 }] }, mark: "bar", encoding: { x: { field: "f", type: "nominal" }, y: { field: "n", type: "quantitative" } } },
    "chart",
  );
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { title: "Export benchmark", language_info: { name: "typescript" } },
    cells: [
      { cell_type: "markdown" as const, id: "m", source: "# Export benchmark\n\nA 50k-frame flame graph.", metadata: {} },
      { cell_type: "code" as const, id: "fg", source: "%%perf -a -g", metadata: {}, execution_count: 1, outputs: [{ output_type: "display_data" as const, data: { "image/svg+xml": graph.svg, "text/plain": "flame graph" }, metadata: {} }] },
      { cell_type: "code" as const, id: "ch", source: "chart", metadata: {}, execution_count: 2, outputs: [{ output_type: "display_data" as const, data: chart, metadata: {} }] },
    ],
  };

  const dir = mkdtempSync(join(tmpdir(), "kbook-bench-export-"));
  try {
    const input = join(dir, "bench.ipynb");
    writeFileSync(input, JSON.stringify(notebook));
    const runs: { wall: number; cpu: number }[] = [];
    let size = 0;
    for (let run = 0; run < 5; run++) {
      const cpu0 = process.cpuUsage();
      const started = performance.now();
      const { html, notes } = await exportNotebook(notebook);
      const cpu = process.cpuUsage(cpu0);
      runs.push({ wall: performance.now() - started, cpu: (cpu.user + cpu.system) / 1000 });
      size = Buffer.byteLength(html);
      if (notes.length) throw new Error(`unexpected notes: ${notes.join("; ")}`);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

    // The CLI as a user runs it; /usr/bin/time measures the child's CPU time and peak memory.
    const output = join(dir, "bench.html");
    const timeFile = join(dir, "time.txt");
    const cli = join(packageRoot(), "dist", "lib", "cli", "main.js");
    const started = performance.now();
    execFileSync("/usr/bin/time", ["-o", timeFile, "-f", "%U %S %M", process.execPath, cli, "export", input, "-o", output], { stdio: "ignore" });
    const cliWall = performance.now() - started;
    const [user, system, maxKb] = readFileSync(timeFile, "utf8").trim().split(/\s+/).map(Number);

    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
    console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} (2 cores)`);
    console.log(`flame graph: ${graph.frames} frames (${graph.pruned} pruned), SVG ${mb(Buffer.byteLength(graph.svg))}; notebook ${mb(statSync(input).size)}`);
    console.log(`exportNotebook in process (median of 5): ${s(median(runs.map((r) => r.wall)))} wall, ${s(median(runs.map((r) => r.cpu)))} CPU`);
    console.log(`kbook export, whole CLI process: ${s(cliWall)} wall, ${s((user! + system!) * 1000)} CPU, peak RSS ${(maxKb! / 1024).toFixed(0)} MB — target ≤ 2 s`);
    console.log(`HTML: ${mb(size)} (${mb(statSync(output).size)} written by the CLI)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

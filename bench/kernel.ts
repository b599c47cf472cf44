/**
 * Kernel latency, measured with a real ZeroMQ Jupyter client against the built kernel:
 *  - start: process spawn → first kernel_info_reply (target ≤ 1 s), fresh process each run;
 *  - trivial cell: execute_request → execute_reply and → status idle (target ≤ 30 ms), on a warm
 *    kernel, each cell different (`i + 1`) so nothing is answered from a cache.
 * The same figures are taken for tslab, the TypeScript kernel kbook's was measured against
 * (a devDependency kept for this baseline): same client, same cells. Then, for kbook only:
 *  - completion of `vm.` on a warm kernel (target ≤ 100 ms), the VM's type from kbook's API;
 *  - interrupt latency of a busy loop (`while (true) {}`), interrupt_request sent → execute_reply
 *    (target ≤ 1 s);
 *  - JupyterLab's renderer showing a 50k-frame flame graph interactively: JupyterLab 4's own
 *    OutputArea and renderers (the test harness's page, test/frontends/page.ts, bundled by
 *    esbuild) in headless Chromium, from handing over the output to the graph's script being set
 *    up, and to the first hover answered.
 * Run: npm run bench:kernel   (options: --starts N --cells N --frames N)
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packageRoot } from "../lib/paths.js";
import { kernelSpec } from "../lib/notebooks/kernelspec.js";
import { Profile } from "../lib/perf/profile.js";
import { FoldedStacks } from "../lib/flamegraph/folded.js";
import { KernelClient } from "../kernel/protocol/client.js";

const { values } = parseArgs({
  options: { starts: { type: "string", default: "5" }, cells: { type: "string", default: "60" }, frames: { type: "string", default: "50000" } },
});
const KERNELS: { name: string; argv: string[] }[] = [
  { name: "kbook", argv: kernelSpec().argv },
  { name: "tslab", argv: [process.execPath, join(packageRoot(), "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"] },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

function summary(label: string, samples: number[], target?: number): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = percentile(sorted, 0.5);
  const verdict = target === undefined ? "" : median <= target ? `  (target ≤ ${target} ms: ok)` : `  (target ≤ ${target} ms: MISSED)`;
  return `${label.padEnd(34)} median ${median.toFixed(1).padStart(7)} ms   p90 ${percentile(sorted, 0.9).toFixed(1).padStart(7)} ms   min ${sorted[0]!.toFixed(1).padStart(7)} ms   n=${sorted.length}${verdict}`;
}

async function measureStart(kernelArgv: string[]): Promise<number> {
  const started = performance.now();
  const client = await KernelClient.start(kernelArgv);
  try {
    await client.request("kernel_info_request");
    return performance.now() - started;
  } finally {
    await client.shutdown();
  }
}

async function measure(name: string, kernelArgv: string[]): Promise<void> {
  const starts: number[] = [];
  for (let i = 0; i < Number(values.starts); i++) starts.push(await measureStart(kernelArgv));

  const client = await KernelClient.start(kernelArgv);
  await client.ready();
  let t = performance.now();
  await client.execute("0");
  const firstCell = performance.now() - t;
  t = performance.now();
  const vega = await client.execute('import * as vega from "vega"; vega.version').then(
    (r) => (r.reply.content.status === "ok" ? `${(performance.now() - t).toFixed(0)} ms` : `fails (${String(r.reply.content.ename ?? "error")})`),
    (e: Error) => `fails (${e.message})`,
  );

  // tslab answers every request in the 200 ms after an error with status "abort": let that pass.
  if (vega.startsWith("fails")) await new Promise((r) => setTimeout(r, 500));
  const toReply: number[] = [];
  const toIdle: number[] = [];
  for (let i = 1; i <= Number(values.cells); i++) {
    const sent = performance.now();
    let replied = 0;
    const { reply } = await client.execute(`${i} + 1`).then((r) => {
      replied = replied || performance.now();
      return r;
    });
    const idle = performance.now();
    if (reply.content.status !== "ok") throw new Error(`cell failed: ${JSON.stringify(reply.content)}`);
    toReply.push(Math.min(replied, idle) - sent);
    toIdle.push(idle - sent);
  }
  await client.shutdown();

  console.log(`${name}:`);
  console.log(summary("  start → kernel_info_reply", starts, 1000));
  console.log(summary("  trivial cell → execute_reply+idle", toIdle, 30));
  console.log(`  first cell (TypeScript warming up): ${firstCell.toFixed(0)} ms; ESM vega 6 import cell: ${vega}`);
}

async function measureCompletionAndInterrupt(): Promise<void> {
  const client = await KernelClient.start(kernelSpec().argv);
  await client.ready();
  await client.execute('import type { Vm } from "kbook"; let vm = undefined as unknown as Vm;');
  const completions: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    const reply = await client.request("complete_request", { code: "vm.", cursor_pos: 3 });
    if (i > 0) completions.push(performance.now() - t); // the first builds the language service's program
    if (!(reply.content.matches as string[]).includes("exec")) throw new Error(`vm. did not complete: ${JSON.stringify(reply.content)}`);
  }
  const interrupts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const running = client.execute(`let spins${i} = 0; while (true) { spins${i}++ }`);
    // Wait until the loop runs (the cell is checked first): the heartbeat thread answers meanwhile.
    await new Promise((r) => setTimeout(r, 1500));
    const t = performance.now();
    await client.request("interrupt_request", {}, "control");
    const { reply } = await running;
    interrupts.push(performance.now() - t);
    if (reply.content.ename !== "Interrupted") throw new Error(`not interrupted: ${JSON.stringify(reply.content)}`);
  }
  await client.shutdown();
  console.log("kbook, kernel features:");
  console.log(summary("  complete vm. (warm)", completions, 100));
  console.log(summary("  interrupt a busy loop → reply", interrupts, 1000));
}

/**
 * Folded stacks that draw about `frames` frames: chains ten calls deep, as many as it takes,
 * each wide enough (1/5000 of the graph at 50k frames) that flamegraph.pl's --minwidth keeps it.
 */
function deepProfile(frames: number): Profile {
  const depth = 10;
  const stacks = new FoldedStacks();
  for (let chain = 0; chain < Math.ceil(frames / depth); chain++) {
    const path = Array.from({ length: depth }, (_, level) => `fn_${level}_${chain}`);
    stacks.add(path.join(";"), 3 + (chain % 5));
  }
  return new Profile(stacks, { source: "synthetic" });
}

async function measureJupyterLabRender(frames: number): Promise<void> {
  const page = join(packageRoot(), "test", "frontends", "page.ts");
  if (!existsSync("/usr/bin/chromium") || !existsSync(page)) {
    console.log("JupyterLab render: skipped (needs /usr/bin/chromium and the repository's test/frontends)");
    return;
  }
  const { build } = await import("esbuild");
  const { chromium } = await import("playwright-core");
  const dir = await mkdtemp(join(tmpdir(), "kbook-bench-frontends-"));
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  try {
    await build({ entryPoints: [page], bundle: true, format: "iife", platform: "browser", target: "chrome120", outfile: join(dir, "page.js"), define: { "process.env.NODE_ENV": '"production"' }, loader: { ".svg": "text" }, logLevel: "error" });
    await writeFile(join(dir, "index.html"), '<!doctype html><html><head><meta charset="utf-8"></head><body><script src="page.js"></script></body></html>\n');
    const profile = deepProfile(frames);
    const t0 = performance.now();
    const bundle = (profile as unknown as Record<symbol, () => Record<string, string>>)[Symbol.for("Jupyter.display")]!();
    const renderMs = performance.now() - t0;
    const drawn = (bundle["image/svg+xml"]!.match(/<g>\n<title>/g) ?? []).length;
    const runs: number[] = [];
    const hovers: number[] = [];
    for (let i = 0; i < 3; i++) {
      const tab = await browser.newPage();
      await tab.goto(`file://${join(dir, "index.html")}`);
      const timing = await tab.evaluate(async (data) => {
        const start = performance.now();
        (window as unknown as { kbookHarness: { jupyterlab(l: string, o: unknown[], t: boolean): void } }).kbookHarness.jupyterlab("big", [{ output_type: "display_data", data, metadata: {} }], true);
        const svg = await new Promise<Element>((resolve) => {
          const check = () => {
            const found = document.querySelector("section svg.kbook-flamegraph") as (Element & { kbookFlameGraph?: object }) | null;
            if (found?.kbookFlameGraph) resolve(found);
            else requestAnimationFrame(check);
          };
          check();
        });
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))); // painted
        const ready = performance.now() - start;
        const frame = svg.querySelector(".fg-frames > g")!;
        const hoverStart = performance.now();
        frame.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
        const details = svg.querySelector(".fg-details")?.textContent ?? "";
        return { ready, hover: performance.now() - hoverStart, details };
      }, bundle);
      if (!timing.details.trim()) throw new Error("the flame graph did not answer the hover");
      runs.push(timing.ready);
      hovers.push(timing.hover);
      await tab.close();
    }
    console.log(`JupyterLab 4 renderer, ${frames.toLocaleString("en-US")}-frame profile (${drawn.toLocaleString("en-US")} frames drawn, ${(bundle["text/html"]!.length / 1e6).toFixed(1)} MB of HTML; bundle made in ${renderMs.toFixed(0)} ms):`);
    console.log(summary("  output → interactive graph", runs));
    console.log(summary("  first hover answered", hovers));
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const kernel of KERNELS) await measure(kernel.name, kernel.argv);
await measureCompletionAndInterrupt();
await measureJupyterLabRender(Number(values.frames));

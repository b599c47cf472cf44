/**
 * Kernel latency, measured with a real ZeroMQ Jupyter client against the built kernel:
 *  - start: process spawn → first kernel_info_reply (target ≤ 1 s), fresh process each run;
 *  - trivial cell: execute_request → execute_reply and → status idle (target ≤ 30 ms), on a warm
 *    kernel, each cell different (`i + 1`) so nothing is answered from a cache.
 * The same figures are taken for tslab, the TypeScript kernel kbook's was measured against
 * (a devDependency kept for this baseline): same client, same cells.
 * Run: npm run bench:kernel   (options: --starts N --cells N)
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packageRoot } from "../lib/paths.js";
import { KernelClient } from "../kernel/protocol/client.js";

const { values } = parseArgs({ options: { starts: { type: "string", default: "5" }, cells: { type: "string", default: "60" } } });
const KERNELS: { name: string; argv: string[] }[] = [
  { name: "kbook", argv: [process.execPath, join(packageRoot(), "dist", "kernel", "main.js"), "{connection_file}"] },
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

for (const kernel of KERNELS) await measure(kernel.name, kernel.argv);

/**
 * Kernel latency, measured with a real ZeroMQ Jupyter client against the built kernel:
 *  - start: process spawn → first kernel_info_reply (target ≤ 1 s), fresh process each run;
 *  - trivial cell: execute_request → execute_reply and → status idle (target ≤ 30 ms), on a warm
 *    kernel, each cell different (`i + 1`) so nothing is answered from a cache.
 * Run: npm run bench:kernel   (options: --starts N --cells N)
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packageRoot } from "../lib/assets.js";
import { KernelClient } from "../kernel/protocol/client.js";

const { values } = parseArgs({ options: { starts: { type: "string", default: "5" }, cells: { type: "string", default: "60" } } });
const kernelArgv = [process.execPath, join(packageRoot(), "dist", "kernel", "main.js"), "{connection_file}"];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

function summary(label: string, samples: number[], target?: number): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = percentile(sorted, 0.5);
  const verdict = target === undefined ? "" : median <= target ? `  (target ≤ ${target} ms: ok)` : `  (target ≤ ${target} ms: MISSED)`;
  return `${label.padEnd(34)} median ${median.toFixed(1).padStart(7)} ms   p90 ${percentile(sorted, 0.9).toFixed(1).padStart(7)} ms   min ${sorted[0]!.toFixed(1).padStart(7)} ms   n=${sorted.length}${verdict}`;
}

async function measureStart(): Promise<number> {
  const started = performance.now();
  const client = await KernelClient.start(kernelArgv);
  try {
    await client.request("kernel_info_request");
    return performance.now() - started;
  } finally {
    await client.shutdown();
  }
}

async function main(): Promise<void> {
  const starts: number[] = [];
  for (let i = 0; i < Number(values.starts); i++) starts.push(await measureStart());

  const client = await KernelClient.start(kernelArgv);
  await client.ready();
  let t = performance.now();
  await client.execute("0");
  const firstCell = performance.now() - t;
  t = performance.now();
  await client.execute('import * as vega from "vega"; vega.version');
  const vegaImport = performance.now() - t;

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

  console.log(summary("start → kernel_info_reply", starts, 1000));
  console.log(summary("trivial cell → execute_reply+idle", toIdle, 30));
  console.log(`first cell (TypeScript warming up): ${firstCell.toFixed(0)} ms; vega import cell: ${vegaImport.toFixed(0)} ms`);
}

await main();

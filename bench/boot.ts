/**
 * npm run bench:boot — boot times under this machine's accelerator, median of 5, from spawning
 * QEMU to the first command's result; the exec round trip; a warm-cache image build.
 */
import { bootVm } from "../lib/boot/index.js";
import { buildImage } from "../lib/images/index.js";
import { detectAccel } from "../lib/system/accel.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function bootToFirstCommand(dir: string): Promise<{ ms: number; rtt: number }> {
  const started = performance.now();
  const vm = await bootVm({ image: dir });
  try {
    await vm.exec(["true"]);
    const ms = performance.now() - started;
    const rtts: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await vm.exec(["true"]);
      rtts.push(performance.now() - t);
    }
    return { ms, rtt: median(rtts) };
  } finally {
    await vm.shutdown();
  }
}

const accel = await detectAccel();
console.log(`accelerator: ${accel.accel} (${accel.reason})`);
for (const kind of ["busybox", "debian"] as const) {
  const image = await buildImage(kind, { onProgress: (e) => e.stage !== "cached" && console.error(`  [${kind}] ${e.stage} ${e.message ?? ""}`) });
  const results = [];
  for (let i = 0; i < RUNS; i++) results.push(await bootToFirstCommand(image.dir));
  console.log(
    `${kind.padEnd(8)} boot→first command: median ${(median(results.map((r) => r.ms)) / 1000).toFixed(2)} s ` +
      `(runs: ${results.map((r) => (r.ms / 1000).toFixed(2)).join(", ")}); exec('true') round trip median ${median(results.map((r) => r.rtt)).toFixed(1)} ms`,
  );
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await buildImage(kind);
    warm.push(performance.now() - t);
  }
  console.log(`${kind.padEnd(8)} warm-cache image build (in-process): median ${median(warm).toFixed(1)} ms`);
}

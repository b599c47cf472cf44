/**
 * npm run bench:boot — boot times under this machine's accelerator, median of 5, from calling
 * bootVm to the first command's result: cold (from the first instruction) and resumed from a
 * saved state; what saving a state costs (pause, size); a whole `kbook boot -- true` process
 * resumed; the exec round trip; a warm-cache image build.
 */
import { execa } from "execa";
import { bootVm } from "../lib/boot/index.js";
import { buildImage } from "../lib/images/index.js";
import { findSavedState, removeSavedState } from "../lib/vm/index.js";
import { detectAccel } from "../lib/system/accel.js";
import { formatBytes } from "../lib/progress/index.js";
import { packageRoot } from "../lib/paths.js";
import { join } from "node:path";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

async function bootToFirstCommand(dir: string, cold: boolean): Promise<{ ms: number; rtt: number; kind: string }> {
  const started = performance.now();
  const vm = await bootVm({ image: dir, cold });
  try {
    await vm.exec(["true"]);
    const ms = performance.now() - started;
    const rtts: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await vm.exec(["true"]);
      rtts.push(performance.now() - t);
    }
    return { ms, rtt: median(rtts), kind: vm.startedFrom.kind };
  } finally {
    await vm.shutdown();
  }
}

function line(kind: string, what: string, results: { ms: number }[]): void {
  console.log(`${kind.padEnd(8)} ${what}: median ${seconds(median(results.map((r) => r.ms)))} s (runs: ${results.map((r) => seconds(r.ms)).join(", ")})`);
}

const accel = await detectAccel();
console.log(`accelerator: ${accel.accel} (${accel.reason})`);
for (const kind of ["busybox", "debian"] as const) {
  const image = await buildImage(kind, { onProgress: (e) => e.stage !== "cached" && console.error(`  [${kind}] ${e.stage} ${e.message ?? ""}`) });
  const cold = [];
  for (let i = 0; i < RUNS; i++) cold.push(await bootToFirstCommand(image.dir, true));
  line(kind, "cold boot→first command", cold);

  // The first boot of a configuration: cold, then saved. Its state is made anew here.
  const first = await bootVm({ image: image.dir });
  const key = first.savedStateKey ?? (first.startedFrom.kind === "resumed" ? first.startedFrom.key : undefined);
  await first.shutdown();
  const old = key ? await findSavedState(key) : undefined;
  if (old) await removeSavedState(old);
  const t = performance.now();
  const saving = await bootVm({ image: image.dir });
  const firstMs = performance.now() - t;
  await saving.shutdown();
  const state = (await findSavedState(saving.savedStateKey!))!;
  console.log(
    `${kind.padEnd(8)} first boot with save: ${seconds(firstMs)} s (guest paused ${seconds(state.manifest.saveMs)} s for the save); ` +
      `saved state ${formatBytes(state.bytes)} (stream ${formatBytes(state.manifest.state.bytes)}${state.manifest.disk ? `, disk layer ${formatBytes(state.manifest.disk.bytes)}` : ""})`,
  );

  const resumed = [];
  for (let i = 0; i < RUNS; i++) resumed.push(await bootToFirstCommand(image.dir, false));
  if (resumed.some((r) => r.kind !== "resumed")) throw new Error("a boot that should have resumed did not");
  line(kind, "resumed→first command", resumed);
  console.log(`${kind.padEnd(8)} exec('true') round trip: median ${median(resumed.map((r) => r.rtt)).toFixed(1)} ms resumed, ${median(cold.map((r) => r.rtt)).toFixed(1)} ms cold`);

  const cli = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await execa(process.execPath, [join(packageRoot(), "dist", "lib", "cli", "main.js"), "boot", "--image", image.dir, "--", "true"], { stdio: "ignore" });
    cli.push({ ms: performance.now() - started });
  }
  line(kind, "whole `kbook boot -- true` process, resumed", cli);

  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await buildImage(kind);
    warm.push(performance.now() - t);
  }
  console.log(`${kind.padEnd(8)} warm-cache image build (in-process): median ${median(warm).toFixed(1)} ms`);
}

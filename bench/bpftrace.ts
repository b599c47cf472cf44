/**
 * bpftrace benchmarks (`npm run bench:bpftrace`).
 *
 * 1. Parsing: a generated 50 MB `bpftrace -f json` output shaped like a long kstack capture (one
 *    map line holding tens of thousands of distinct kernel stacks, printf records, histograms),
 *    parsed whole and as a stream of 64 KiB chunks. Target: ≤ 0.5 s.
 * 2. In the guest (runs when a VM can boot; KBOOK_BENCH_GUEST=0 skips it): the same self-stopping program run by bare bpftrace
 *    and by kbook's runBpftrace; kbook's wall-time overhead. Target: ≤ 10 %.
 */
import { existsSync, readFileSync } from "node:fs";
import { BpftraceJsonStream, parseBpftraceJson, runBpftrace, type BpftraceRecord } from "../lib/bpftrace/index.js";
import type { Guest } from "../lib/guest/index.js";

const TARGET_BYTES = 50 * 1024 * 1024;

/** A deterministic pseudo-random generator, so every run parses the same bytes. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Kernel function names: the host's own when readable, else generated ones. */
function functionNames(): string[] {
  try {
    const names = readFileSync("/proc/kallsyms", "utf8")
      .split("\n")
      .map((l) => l.split(/\s+/))
      .filter((f) => (f[1] === "t" || f[1] === "T") && /^[a-z_][\w.]*$/.test(f[2] ?? ""))
      .map((f) => f[2]!);
    if (names.length > 1000) return names;
  } catch {
    // fall through
  }
  return Array.from({ length: 20_000 }, (_, i) => `kernel_function_${i.toString(36)}`);
}

/** Builds ~50 MB of bpftrace JSON: a kstack count map, printf lines and histograms. */
export function generateJsonOutput(bytes = TARGET_BYTES): string {
  const rand = random(42);
  const names = functionNames();
  const pick = () => names[Math.floor(rand() * names.length)]!;
  // Stacks share callers like real ones: a few hundred call paths with different leaves.
  const trunks = Array.from({ length: 400 }, () => Array.from({ length: 6 + Math.floor(rand() * 20) }, () => `${pick()}+${Math.floor(rand() * 2000)}`));
  const lines: string[] = ['{"type": "attached_probes", "data": {"probes": 1}}'];
  let size = lines[0]!.length;
  for (let i = 0; size < bytes * 0.1; i++) {
    const line = JSON.stringify({ type: "printf", data: `pid ${1000 + (i % 5000)} comm worker-${i % 97} opened /var/lib/data/file-${i}.db flags 0x8241\n` });
    lines.push(line);
    size += line.length + 1;
  }
  const hist = `{"type": "hist", "data": {"@latency_ns": [${Array.from({ length: 30 }, (_, k) => `{"min": ${2 ** k}, "max": ${2 ** (k + 1) - 1}, "count": ${Math.floor(rand() * 1e6)}}`).join(", ")}]}}`;
  lines.push("", "", hist);
  size += hist.length + 3;
  const entries: string[] = [];
  let mapSize = 40;
  while (size + mapSize < bytes) {
    const trunk = trunks[Math.floor(rand() * trunks.length)]!;
    const leaves = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => `${pick()}+${Math.floor(rand() * 500)}`);
    const key = `\\n${[...leaves, ...trunk].map((f) => `    ${f}\\n`).join("")}`;
    const entry = `"${key}": ${1 + Math.floor(1 / (rand() + 0.0005))}`;
    entries.push(entry);
    mapSize += entry.length + 2;
  }
  lines.push(`{"type": "map", "data": {"@": {${entries.join(", ")}}}}`);
  return `${lines.join("\n")}\n`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeIt(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

function benchParsing(): void {
  const started = performance.now();
  const text = generateJsonOutput();
  const mb = Buffer.byteLength(text) / 1024 / 1024;
  console.log(`generated ${mb.toFixed(1)} MB of bpftrace JSON in ${(performance.now() - started).toFixed(0)} ms`);
  const whole = timeIt(5, () => void parseBpftraceJson(text));
  const streamed = timeIt(5, () => {
    const records: BpftraceRecord[] = [];
    const stream = new BpftraceJsonStream((r) => records.push(r), { strict: false });
    for (let i = 0; i < text.length; i += 65536) stream.push(text.slice(i, i + 65536));
    stream.end();
  });
  // Stack frames are split on first use; this is the cost of using every one of them.
  let stacks = 0;
  const withStacks = timeIt(3, () => {
    stacks = parseBpftraceJson(text).stacks().rows.length;
  });
  const result = parseBpftraceJson(text);
  const all = result.stacks();
  const table = timeIt(3, () => void parseBpftraceJson(text).stacks().tableHtml(10));
  const folded = timeIt(3, () => void all.folded());
  const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
  console.log(`parse whole:              ${whole.toFixed(0)} ms  (${rate(whole)})  target ≤ 500 ms: ${whole <= 500 ? "ok" : "MISSED"}`);
  console.log(`parse streamed:           ${streamed.toFixed(0)} ms  (${rate(streamed)}, 64 KiB chunks as during a run)`);
  console.log(`parse + all stacks:       ${withStacks.toFixed(0)} ms  (${stacks} distinct stacks, every frame split)`);
  console.log(`parse + top-10 table:     ${table.toFixed(0)} ms`);
  console.log(`folded stacks (all):      ${folded.toFixed(0)} ms`);
}

async function benchGuest(): Promise<void> {
  const vmIndex = new URL("../lib/boot/index.js", import.meta.url);
  if (!existsSync(vmIndex)) {
    console.log("guest overhead: skipped (lib/vm is not built)");
    return;
  }
  const { bootVm } = (await import(vmIndex.href)) as { bootVm(o: { image?: string }): Promise<Guest & { shutdown(): Promise<void> }> };
  let vm;
  try {
    vm = await bootVm({ image: process.env.KBOOK_BENCH_IMAGE ?? "debian" });
  } catch (error) {
    console.log(`guest overhead: skipped (no VM: ${(error as Error).message.split("\n")[0]})`);
    return;
  }
  try {
    // Self-stopping programs, so both runs trace for exactly the same time.
    const programs = {
      "kstack counts (5 s)": "kprobe:task_tick_fair { @[kstack] = count(); } interval:s:5 { exit(); }",
      "printf stream (5 s, 1 kHz)": 'interval:ms:1 { printf("tick %d %s\\n", elapsed, comm); } interval:s:5 { exit(); }',
    };
    for (const [label, program] of Object.entries(programs)) {
      const bare: number[] = [];
      const kbook: number[] = [];
      for (let i = 0; i < 3; i++) {
        let t = performance.now();
        // bpftrace as one would run it by hand: text output, nothing parsed.
        await vm.exec(["bpftrace", "-e", program], { reject: false });
        bare.push(performance.now() - t);
        t = performance.now();
        await runBpftrace(vm, program);
        kbook.push(performance.now() - t);
      }
      const b = median(bare);
      const k = median(kbook);
      const overhead = ((k - b) / b) * 100;
      console.log(`guest ${label}: bare bpftrace ${(b / 1000).toFixed(2)} s, kbook ${(k / 1000).toFixed(2)} s, overhead ${overhead.toFixed(1)} %  target ≤ 10 %: ${overhead <= 10 ? "ok" : "MISSED"}`);
    }
  } finally {
    await vm.shutdown();
  }
}

benchParsing();
// KBOOK_BENCH_GUEST=0 skips the part that boots a VM.
if (process.env.KBOOK_BENCH_GUEST !== "0") await benchGuest();

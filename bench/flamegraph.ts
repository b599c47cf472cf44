/**
 * `npm run bench:flamegraph`: the figures issue 3 asks for, measured on this machine.
 *
 *  1. A real capture: `perf record -a -g -F 2999` over a CPU-bound workload (dd | gzip, md5sum
 *     over /usr/lib), `perf script` to text, grown to ~65 MB by repeating it if the run was short.
 *  2. `kbook collapse` throughput, whole process (startup included) and the collapser alone;
 *     stackcollapse-perf.pl's when it is installed (STACKCOLLAPSE_PERF=path, or on PATH).
 *  3. Peak RSS of `kbook collapse` on a 1 GB input (the capture concatenated).
 *  4. Rendering 100k distinct stacks to SVG (default --minwidth 0.1 px, and 1 px).
 *
 * Generated files go to .kbook/bench (gitignored) or $KBOOK_BENCH_DIR; they are reused.
 * Needs perf and root for step 1 (or a capture given as $KBOOK_BENCH_CAPTURE).
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { execa } from "execa";
import { packageRoot } from "../lib/paths.js";
import { collapsePerfScriptFile } from "../lib/perf/index.js";
import { renderFlameGraphDetailed } from "../lib/flamegraph/index.js";

const MB = 1e6;
const dir = process.env.KBOOK_BENCH_DIR ?? join(packageRoot(), ".kbook", "bench");
const cli = join(packageRoot(), "dist", "lib", "cli", "main.js");
mkdirSync(dir, { recursive: true });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Timing {
  seconds: number;
  /** User + system CPU seconds: less disturbed than wall time on a shared machine. */
  cpuSeconds: number;
  rssKb: number;
}

async function timed(file: string, args: string[]): Promise<Timing> {
  // GNU time reports the peak RSS of the whole process.
  const r = await execa("/usr/bin/time", ["-f", "%e %U %S %M", file, ...args], { stdout: "ignore", stderr: "pipe" });
  const [seconds, user, system, rss] = r.stderr.trim().split("\n").at(-1)!.split(" ").map(Number) as [number, number, number, number];
  return { seconds, cpuSeconds: user + system, rssKb: rss };
}

async function makeCapture(): Promise<string> {
  const given = process.env.KBOOK_BENCH_CAPTURE;
  if (given) return given;
  const capture = join(dir, "capture.txt");
  if (existsSync(capture) && statSync(capture).size > 60 * MB) return capture;
  const data = join(dir, "perf.data");
  const workload =
    "dd if=/dev/urandom bs=1M count=400 2>/dev/null | gzip -1 > /dev/null & " +
    "find /usr/lib -name '*.so*' 2>/dev/null | head -4000 | xargs -n 50 md5sum > /dev/null; wait";
  console.log("recording: perf record -a -g -F 2999 over dd|gzip and md5sum (about 10-20 s)…");
  await execa("perf", ["record", "-q", "-a", "-g", "-F", "2999", "-o", data, "--", "sh", "-c", workload], { stdout: "ignore", stderr: "ignore" });
  const once = join(dir, "capture-once.txt");
  await execa("perf", ["script", "-i", data], { stdout: { file: once }, stderr: "ignore", buffer: false });
  const size = statSync(once).size;
  const copies = Math.max(1, Math.round((65 * MB) / size));
  if (copies === 1) {
    renameSync(once, capture);
    console.log(`capture: ${(size / MB).toFixed(1)} MB of perf script text`);
    return capture;
  }
  const out = createWriteStream(capture);
  for (let i = 0; i < copies; i++) {
    await new Promise<void>((resolve, reject) => {
      const src = execa("cat", [once], { buffer: false });
      src.stdout!.on("end", resolve).on("error", reject);
      src.stdout!.pipe(out, { end: false });
    });
  }
  await new Promise<void>((resolve) => out.end(resolve));
  console.log(`capture: ${(size / MB).toFixed(1)} MB of perf script text, repeated ×${copies}`);
  return capture;
}

async function makeBig(capture: string): Promise<string> {
  const big = join(dir, `${basename(capture, ".txt")}-1gb.txt`);
  if (existsSync(big) && statSync(big).size >= 1000 * MB) return big;
  const size = statSync(capture).size;
  const copies = Math.ceil((1000 * MB) / size);
  await execa("sh", ["-c", `for i in $(seq ${copies}); do cat "$1"; done > "$2"`, "sh", capture, big]);
  return big;
}

function syntheticFolded(stacks: number): string {
  // A tree with a realistic shape: 10k function names, depth 5-40, shared prefixes.
  let seed = 42;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const names = Array.from({ length: 10_000 }, (_, i) => `function_${i.toString(36)}_${["read", "write", "alloc", "lock", "copy"][i % 5]}`);
  const seen = new Set<string>();
  const lines: string[] = [];
  while (lines.length < stacks) {
    const depth = 5 + Math.floor(rand() * 35);
    const frames = ["proc"];
    for (let d = 0; d < depth; d++) frames.push(names[Math.floor(rand() ** (d < 4 ? 3 : 1) * names.length)]!);
    const stack = frames.join(";");
    if (seen.has(stack)) continue;
    seen.add(stack);
    lines.push(`${stack} ${1 + Math.floor(rand() * 100)}`);
  }
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  if (!existsSync(cli)) throw new Error("Run 'npm run build' first (dist/lib/cli/main.js is missing).");
  const results: Record<string, unknown> = {};
  const capture = await makeCapture();
  const captureMb = statSync(capture).size / MB;
  results.captureMb = captureMb;

  // Startup alone, for reading the whole-process figures.
  const nodeRuns = [];
  for (let i = 0; i < 3; i++) nodeRuns.push((await timed("node", ["-e", "0"])).seconds);
  const nodeStart = median(nodeRuns);
  const helpRuns = [];
  // The CLI runs as users run it: the executable itself, so its shebang's V8 flags apply.
  for (let i = 0; i < 3; i++) helpRuns.push(await timed(cli, ["collapse", "--help"]));
  results.nodeStartupS = nodeStart;
  results.kbookStartupS = median(helpRuns.map((r) => r.seconds));

  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await timed(cli, ["collapse", capture]));
  const wall = median(runs.map((r) => r.seconds));
  results.collapseWallS = wall;
  results.collapseWholeProcessMBps = captureMb / wall;
  results.collapseCpuS = median(runs.map((r) => r.cpuSeconds));
  results.collapseWholeProcessMBpsByCpu = captureMb / median(runs.map((r) => r.cpuSeconds));
  results.collapseRssMb = median(runs.map((r) => r.rssKb)) / 1000;

  const engine: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    collapsePerfScriptFile(capture).folded.toBuffer();
    engine.push((performance.now() - t0) / 1000);
  }
  results.collapserAloneS = median(engine);
  results.collapserAloneMBps = captureMb / median(engine);

  const perl = process.env.STACKCOLLAPSE_PERF ?? (await execa("sh", ["-c", "command -v stackcollapse-perf.pl"], { reject: false })).stdout.trim();
  if (perl) {
    const p = await timed("perl", [perl, capture]);
    results.perlS = p.seconds;
    results.perlMBps = captureMb / p.seconds;
    results.speedupVsPerl = p.seconds / wall;
  } else {
    results.perl = "stackcollapse-perf.pl not installed (no npm or Debian package ships it); set STACKCOLLAPSE_PERF=path to compare";
  }

  const big = await makeBig(capture);
  const bigRuns = [];
  for (let i = 0; i < 3; i++) bigRuns.push(await timed(cli, ["collapse", big]));
  const bigRun = bigRuns.sort((a, b) => a.seconds - b.seconds)[1]!;
  results.bigInputMb = statSync(big).size / MB;
  results.bigPeakRssMb = Math.max(...bigRuns.map((r) => r.rssKb)) / 1000;
  results.bigWallS = bigRun.seconds;
  results.bigWholeProcessMBps = statSync(big).size / MB / bigRun.seconds;
  results.bigCpuS = bigRun.cpuSeconds;
  results.loadAverage = (await execa("cat", ["/proc/loadavg"])).stdout.split(" ").slice(0, 3).join(" ");

  const folded = syntheticFolded(100_000);
  writeFileSync(join(dir, "stacks-100k.folded"), folded);
  // Without pruning this synthetic tree has 2.1 M frames (a 390 MB SVG): --minwidth is the point.
  for (const minwidth of [undefined, "1"] as const) {
    const times: number[] = [];
    let last: ReturnType<typeof renderFlameGraphDetailed> | undefined;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      last = renderFlameGraphDetailed(folded, minwidth === undefined ? {} : { minwidth });
      times.push((performance.now() - t0) / 1000);
    }
    results[`render100k_minwidth_${minwidth ?? "default"}`] = { seconds: median(times), svgMb: last!.svg.length / MB, frames: last!.frames, pruned: last!.pruned };
  }
  const cliRender = await timed(cli, ["flamegraph", join(dir, "stacks-100k.folded"), "-o", join(dir, "stacks-100k.svg")]);
  results.render100kCliS = cliRender.seconds;

  writeFileSync(join(dir, "results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(JSON.stringify(results, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

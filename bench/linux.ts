/**
 * npm run bench:linux — your own kernel on this machine: a cold build of the learn config (empty
 * build directory and ccache), a rebuild with no change (the cache hit, and a make run with
 * nothing to do), a one-file edit to a bootable kernel, the boot of the build to its first
 * command (median of 5) and the whole `kbook boot --linux … -- true`, vm.gdb() connecting with
 * DWARF loaded, and a source-level stop to its rendered display.
 *
 * It uses its own cache (.kbook/bench-cache, or KBOOK_CACHE) so the cold build is really cold;
 * the Debian source is unpacked there once and reused by later runs (reported when it happens).
 */
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

process.env.KBOOK_CACHE ??= resolve(".kbook/bench-cache");
const { bootVm } = await import("../lib/boot/index.js");
const { buildLinux, removeLinuxBuild, resolveLinuxSource } = await import("../lib/linux/index.js");
const { linuxCacheDir } = await import("../lib/linux/source.js");
const { buildImage } = await import("../lib/images/index.js");
const { ProgressReporter } = await import("../lib/progress/index.js");
const { renderStopDisplay } = await import("../lib/gdb/stop.js");

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const run = promisify(execFile);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function timed<T>(what: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await what();
  return [result, performance.now() - started];
}

const quiet = (e: { stage: string; message?: string }) => e.stage !== "make" && console.error(`  [linux] ${e.stage} ${e.message ?? ""}`);

console.log(`cache: ${process.env.KBOOK_CACHE}`);
await buildImage("debian", { onProgress: (e) => e.stage !== "cached" && console.error(`  [debian] ${e.stage} ${e.message ?? ""}`) });
const [source, unpackMs] = await timed(() => resolveLinuxSource(undefined, new ProgressReporter()));
console.log(`Debian source ready (unpacked now if this is the first run): ${seconds(unpackMs)}`);

// Cold: no build directory, no ccache.
await rm(join(linuxCacheDir(), "build"), { recursive: true, force: true });
await rm(join(linuxCacheDir(), "ccache"), { recursive: true, force: true });
for (const previous of await (await import("../lib/linux/index.js")).listLinuxBuilds()) await removeLinuxBuild(previous);
const [cold, coldMs] = await timed(() => buildLinux({ onProgress: quiet }));
console.log(`cold build of the learn config: ${seconds(coldMs)} (${cold.manifest.objectsCompiled} objects; config ${seconds(cold.manifest.timings.configMs)}, make ${seconds(cold.manifest.timings.makeMs)})  target ≤ 6 min`);

const [, hitMs] = await timed(() => buildLinux());
console.log(`no-change rebuild (cache hit): ${seconds(hitMs)}  target ≤ 5 s`);
await removeLinuxBuild(cold);
const [noop, noopMs] = await timed(() => buildLinux());
console.log(`no-change rebuild with make run again (nothing to compile, relink checks, publish): ${seconds(noopMs)} (${noop.manifest.objectsCompiled} objects)`);

const file = join(source.dir, "fs", "open.c");
const original = await readFile(file, "utf8");
try {
  await writeFile(file, original.replace("EXPORT_SYMBOL(file_open_root);", "EXPORT_SYMBOL(file_open_root); /* bench: a one-line edit */"));
  const [edited, editMs] = await timed(() => buildLinux());
  console.log(`one-file edit → bootable kernel: ${seconds(editMs)} (${edited.manifest.objectsCompiled} objects)  target ≤ 30 s`);
} finally {
  await writeFile(file, original);
}
const build = await buildLinux({ onProgress: quiet }); // back to the unedited source

const boots: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const [vm, ms] = await timed(async () => {
    const vm = await bootVm({ image: "debian", linux: build });
    await vm.exec(["true"]);
    return vm;
  });
  boots.push(ms);
  await vm.shutdown();
}
console.log(`boot of the build → first command: median ${seconds(median(boots))} (runs: ${boots.map(seconds).join(", ")})  target ≤ 2.5 s`);

const wholes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const [, ms] = await timed(() => run("node", [resolve("dist/lib/cli/main.js"), "boot", "--linux", build.dir, "--", "true"], { env: process.env }));
  wholes.push(ms);
}
console.log(`whole 'kbook boot --linux … -- true': median ${seconds(median(wholes))} (runs: ${wholes.map(seconds).join(", ")})  target ≤ 4 s`);

const vm = await bootVm({ image: "debian", linux: build, gdb: true });
try {
  const [g, connectMs] = await timed(() => vm.gdb());
  console.log(`vm.gdb() connect with DWARF and the gdb scripts loaded: ${seconds(connectMs)}  target ≤ 3 s`);
  await g.break("do_sys_openat2");
  await g.continue();
  const cat = vm.exec(["cat", "/etc/hostname"], { timeoutMs: 120_000 });
  await g.waitForStop({ timeoutMs: 120_000 });
  // What a stop costs kbook once gdb reports it: backtrace, source lines, arguments, the display.
  const describe: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [, ms] = await timed(async () => {
      const frames = await g.backtrace({ limit: 32 });
      const source = await g.source({ context: 4 });
      const args = await g.args();
      return renderStopDisplay({ reason: "breakpoint-hit", function: frames[0]?.function, args, backtrace: frames, source, raw: {} });
    });
    describe.push(ms);
  }
  const nexts: number[] = [];
  for (let i = 0; i < RUNS; i++) nexts.push((await timed(() => g.next()))[1]);
  console.log(`source-level stop → rendered display: median ${(median(describe) / 1000).toFixed(3)} s; a whole g.next() (run one line, stop, describe): median ${seconds(median(nexts))}  target ≤ 0.5 s`);
  await g.delete();
  await g.continue();
  await cat;
} finally {
  await vm.shutdown();
}

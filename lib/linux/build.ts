/**
 * `buildLinux()`: a kernel from source, built out of tree in kbook's cache and published as a
 * cache entry keyed by (source state, effective config, compiler). The same key is a cache hit;
 * a new key rebuilds in the persistent build directory of its (source, config inputs), so an
 * edit recompiles only what changed, and ccache with a fixed build timestamp makes even a fresh
 * build directory cheap. Progress counts objects; a failure shows the first compiler error with
 * its source lines; cancelling kills make's whole process group; nothing half-built is used.
 */
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, readdirSync } from "node:fs";
import { chmod, copyFile, cp, mkdir, readFile, rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { acquireFileLock } from "../system/lock.js";
import { KbookError, UsageError } from "../errors/index.js";
import { ProgressReporter, formatDuration, type ProgressListener } from "../progress/index.js";
import { effectiveConfig, resolveConfigInputs, type LinuxConfigOptions } from "./config.js";
import { describeMakeProgress, firstBuildError, trackMakeLine, type BuildErrorReport, type MakeProgress } from "./make-output.js";
import { linuxCacheDir, resolveLinuxSource, treeStamp, type LinuxSource } from "./source.js";
import { findLinuxBuildByKey, kernelsDir, linuxBuildFromDir, type LinuxBuild, type LinuxManifest } from "./store.js";

/** Bump when what a build publishes changes. */
const PIPELINE_REVISION = "1";
/** kbuild's timestamp, fixed so rebuilt objects are identical and ccache hits. */
const BUILD_TIMESTAMP = "2026-01-01 00:00:00 UTC";
/** A cold learn build needs about 1.5 GB for its build directory; a margin on top. */
const SPACE_NEEDED_BYTES = 3 * 1024 ** 3;
/** Debian's linux-source-6.1 unpacked twice (pristine and working copy). */
const SOURCE_BYTES = 2.6 * 1024 ** 3;
/** Objects of a learn build (6.1), for the first build's progress estimate. */
const EXPECTED_OBJECTS: Record<string, number> = { learn: 1350 };

export interface LinuxBuildOptions extends LinuxConfigOptions {
  /** Your own kernel tree; default: Debian's linux-source package, unpacked into the cache. */
  source?: string;
  /** Name of the build (default: the preset, e.g. "learn"). */
  name?: string;
  /** Parallel jobs (default: every core). */
  jobs?: number;
  /** Use ccache when installed (default true). */
  ccache?: boolean;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/** A kernel build failed: the first error and where the whole log is. */
export class LinuxBuildError extends KbookError {
  readonly logPath: string;
  readonly firstError?: BuildErrorReport;
  constructor(message: string, logPath: string, firstError: BuildErrorReport | undefined, detail: string) {
    super(message, { detail, hint: `The whole log: ${logPath}` });
    this.logPath = logPath;
    this.firstError = firstError;
  }
}

interface Tool {
  name: string;
  check: () => Promise<boolean>;
  aptPackage: string;
}

async function hasCommand(command: string, args = ["--version"]): Promise<boolean> {
  const r = await execa(command, args, { reject: false, stdin: "ignore" });
  return !(r.failed && (r as { code?: string }).code === "ENOENT");
}

const TOOLCHAIN: Tool[] = [
  { name: "make", check: () => hasCommand("make"), aptPackage: "make" },
  { name: "gcc", check: () => hasCommand("gcc"), aptPackage: "gcc" },
  { name: "flex", check: () => hasCommand("flex"), aptPackage: "flex" },
  { name: "bison", check: () => hasCommand("bison"), aptPackage: "bison" },
  { name: "bc", check: () => hasCommand("bc"), aptPackage: "bc" },
  { name: "pahole (BTF)", check: () => hasCommand("pahole"), aptPackage: "dwarves" },
  { name: "libelf headers", check: async () => existsSync("/usr/include/gelf.h"), aptPackage: "libelf-dev" },
  { name: "OpenSSL headers", check: async () => existsSync("/usr/include/openssl/opensslv.h"), aptPackage: "libssl-dev" },
];

/** Checks the build tools; a missing one is named with the Debian package that provides it. */
export async function checkLinuxToolchain(): Promise<void> {
  const missing: Tool[] = [];
  for (const tool of TOOLCHAIN) if (!(await tool.check())) missing.push(tool);
  if (missing.length) {
    throw new UsageError(`Building a kernel needs ${missing.map((t) => `${t.name} (Debian package ${t.aptPackage})`).join(", ")}.`, {
      hint: `Run 'kbook doctor --install', or: apt-get install ${missing.map((t) => t.aptPackage).join(" ")}`,
    });
  }
}

/** The compiler and tools that shape the output, as one line for the key and the manifest. */
async function compilerIdentity(): Promise<string> {
  const first = async (file: string, args: string[]) => (await execa(file, args, { reject: false })).stdout.split("\n")[0]?.trim() ?? "";
  return [await first("gcc", ["--version"]), await first("ld", ["--version"]), `pahole ${await first("pahole", ["--version"])}`].join("; ");
}

/** Fails early, naming the path, when the cache's file system cannot hold a build. */
async function checkSpace(path: string, needed: number): Promise<void> {
  await mkdir(path, { recursive: true });
  const fs = await statfs(path);
  const free = fs.bavail * fs.bsize;
  if (free < needed) {
    throw new UsageError(`Not enough disk space for a kernel build in ${path}: ${(free / 1024 ** 3).toFixed(1)} GB free, about ${(needed / 1024 ** 3).toFixed(1)} GB needed.`, {
      hint: "Free some space, or point KBOOK_CACHE at a larger disk.",
    });
  }
}

/** Builds a kernel, or returns the cached build of the same source, config and compiler. */
export async function buildLinux(options: LinuxBuildOptions = {}): Promise<LinuxBuild> {
  const progress = new ProgressReporter(options.onProgress);
  const signal = options.signal;
  await checkLinuxToolchain();
  const inputs = await resolveConfigInputs(options);
  // Before anything is unpacked: Debian's source takes about 2.6 GB (pristine and working copy).
  const sources = join(linuxCacheDir(), "sources");
  const unpacked = Boolean(options.source) || (existsSync(sources) && readdirSync(sources).length > 0);
  await checkSpace(linuxCacheDir(), unpacked ? SPACE_NEEDED_BYTES / 4 : SPACE_NEEDED_BYTES + SOURCE_BYTES);
  const source = await resolveLinuxSource(options.source, progress, signal);
  const stamp = treeStamp(source.dir);
  const configStarted = progress.elapsed();
  const config = await effectiveConfig(source, inputs, stamp.kconfig, progress, signal);
  const configMs = progress.elapsed() - configStarted;
  for (const d of config.dropped) progress.report("config", `warning: ${d.message}`);
  const compiler = await compilerIdentity();
  const key = createHash("sha256").update([PIPELINE_REVISION, source.id, stamp.all, config.sha256, compiler].join("\n")).digest("hex").slice(0, 16);
  const name = (options.name ?? inputs.name).replace(/[^A-Za-z0-9_.-]/g, "_");

  const hit = await findLinuxBuildByKey(key);
  if (hit) {
    progress.report("cached", `${hit.manifest.name}-${key} is in the cache (same source, config and compiler)`, { done: true });
    return hit;
  }
  // One persistent build directory per (source tree, config inputs): later builds are incremental.
  const buildDir = join(linuxCacheDir(), "build", `${source.id}-${inputs.hash}`);
  const release = await acquireFileLock(`${buildDir}.lock`, `${name} (${buildDir})`, (pid) => progress.report("waiting", `another build in ${buildDir} is running (pid ${pid})`));
  try {
    const again = await findLinuxBuildByKey(key);
    if (again) return again;
    await checkSpace(linuxCacheDir(), existsSync(join(buildDir, "vmlinux")) ? SPACE_NEEDED_BYTES / 4 : SPACE_NEEDED_BYTES);
    await mkdir(buildDir, { recursive: true });
    const configPath = join(buildDir, ".config");
    // Only a changed config touches .config: kbuild then rebuilds no more than it must.
    if ((await readFile(configPath, "utf8").catch(() => "")) !== config.text) await writeFile(configPath, config.text);
    const hasModules = [...config.values.values()].includes("m");
    const makeStarted = progress.elapsed();
    const objects = await runMake(source, buildDir, ["vmlinux", "bzImage", "scripts_gdb", ...(hasModules ? ["modules"] : [])], {
      jobs: options.jobs ?? cpus().length,
      ccache: options.ccache !== false && (await hasCommand("ccache")),
      expected: await previousObjectCount(buildDir, inputs.preset),
      progress,
      signal,
    });
    const makeMs = progress.elapsed() - makeStarted;
    progress.report("publish", "copying the kernel, vmlinux and gdb scripts into the cache");
    const manifest: Omit<LinuxManifest, "files" | "timings" | "release"> = {
      format: 1,
      kind: "linux",
      name,
      key,
      source: { kind: source.kind, id: source.id, dir: source.dir, version: source.version, packageVersion: source.packageVersion },
      config: {
        preset: inputs.preset,
        sha256: config.sha256,
        requested: inputs.userRequests.map((r) => `CONFIG_${r.symbol}=${r.value}`),
        dropped: config.dropped.map((d) => d.message),
      },
      compiler,
      createdAt: new Date().toISOString(),
      objectsCompiled: objects,
      buildDir,
      hasModules,
    };
    const build = await publish(buildDir, source, manifest, { configMs, makeMs, totalMs: progress.elapsed() }, hasModules, signal);
    progress.report("done", `${name}-${key} built in ${formatDuration(progress.elapsed())} (${objects} objects compiled, kernel ${build.manifest.release})`, { done: true });
    return build;
  } catch (error) {
    if (signal?.aborted) throw new KbookError("The kernel build was interrupted; nothing was kept (the next build goes on from what make finished).", { cause: error });
    if (isNoSpace(error)) {
      throw new KbookError(`The disk holding ${linuxCacheDir()} filled up during the kernel build; nothing was kept.`, {
        hint: `A build needs about ${SPACE_NEEDED_BYTES / 1024 ** 3} GB there: free some space or set KBOOK_CACHE to a larger disk.`,
        cause: error,
      });
    }
    throw error;
  } finally {
    await release();
  }
}

function isNoSpace(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === "ENOSPC" || (error instanceof LinuxBuildError && /No space left on device/.test(error.detail ?? ""));
}

/** The object count of the last build in this directory, else the preset's typical count. */
async function previousObjectCount(buildDir: string, preset: string): Promise<number | undefined> {
  const text = await readFile(join(buildDir, ".kbook-objects"), "utf8").catch(() => "");
  const n = Number(text.trim());
  return n > 0 ? n : EXPECTED_OBJECTS[preset];
}

/** Runs make with progress, its whole output in build.log; returns the objects it compiled. */
async function runMake(
  source: LinuxSource,
  buildDir: string,
  targets: string[],
  options: { jobs: number; ccache: boolean; expected?: number; progress: ProgressReporter; signal?: AbortSignal },
): Promise<number> {
  const logPath = join(buildDir, "build.log");
  const log = createWriteStream(logPath);
  const args = ["-C", source.dir, `O=${buildDir}`, "ARCH=x86_64", `-j${options.jobs}`, ...(options.ccache ? ["CC=ccache gcc"] : []), ...targets];
  const env = {
    // Plain ASCII messages ('x', not ‘x’), so the first error quotes cleanly anywhere. Not through
    // LC_ALL: the kernel's Makefile unexports it.
    LANG: "C",
    LC_MESSAGES: "C",
    KBUILD_BUILD_TIMESTAMP: BUILD_TIMESTAMP,
    KBUILD_BUILD_USER: "kbook",
    KBUILD_BUILD_HOST: "kbook",
    // kbook's own ccache: a rebuild of a key seen before (an edit undone) compiles from it.
    CCACHE_DIR: join(linuxCacheDir(), "ccache"),
    CCACHE_MAXSIZE: "5G",
  };
  const state: MakeProgress = { compiled: 0, stage: "compiling" };
  const started = options.progress.elapsed();
  let lastReport = 0;
  const report = () => {
    const current = state.current?.startsWith(`${buildDir}/`) ? state.current.slice(buildDir.length + 1) : state.current;
    const { message, fraction } = describeMakeProgress({ ...state, current }, options.expected, options.progress.elapsed() - started);
    options.progress.report("make", message, fraction === undefined ? {} : { fraction });
  };
  options.progress.report("make", `make -j${options.jobs} ${targets.join(" ")}${options.ccache ? " (ccache)" : ""}; log: ${logPath}`);
  // detached: make and its compilers form one process group, so a cancel ends all of them.
  const child = execa("make", args, { cwd: source.dir, env, extendEnv: true, detached: true, reject: false, stdin: "ignore", all: true, buffer: false });
  const onAbort = () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let pending = "";
  child.all!.on("data", (chunk: Buffer) => {
    log.write(chunk);
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (trackMakeLine(state, line) && Date.now() - lastReport > 3000) {
        lastReport = Date.now();
        report();
      }
    }
  });
  const result = await child;
  options.signal?.removeEventListener("abort", onAbort);
  await new Promise<void>((done) => log.end(done));
  if (options.signal?.aborted) throw new KbookError("make was interrupted.");
  if (result.failed) {
    if ((result as { code?: string }).code === "ENOENT") throw new UsageError("make is not installed.", { hint: "apt-get install make" });
    const text = await readFile(logPath, "utf8");
    const first = firstBuildError(text);
    throw new LinuxBuildError(
      first?.file ? `The kernel build failed: ${first.file}:${first.line}: ${first.message.replace(/^.*?error: /, "error: ")}` : `The kernel build failed (make exited with code ${result.exitCode}).`,
      logPath,
      first,
      first ? await describeBuildError(first, source.dir, buildDir) : text.split("\n").slice(-30).join("\n"),
    );
  }
  await writeFile(join(buildDir, ".kbook-objects"), String(Math.max(state.compiled, (await previousObjectCount(buildDir, "")) ?? 0)));
  return state.compiled;
}

/** The error, the compiler's notes under it, and the source lines around it with the line marked. */
async function describeBuildError(error: BuildErrorReport, sourceDir: string, buildDir: string): Promise<string> {
  const lines = [error.message, ...error.context];
  if (error.file && error.line) {
    const candidates = [resolve(buildDir, error.file), resolve(sourceDir, error.file), resolve(error.file)];
    for (const path of candidates) {
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text === undefined) continue;
      const source = text.split("\n");
      const from = Math.max(1, error.line - 3);
      const to = Math.min(source.length, error.line + 3);
      lines.push("", `${path}:`);
      for (let n = from; n <= to; n++) lines.push(`${n === error.line ? ">" : " "} ${String(n).padStart(5)} | ${source[n - 1]}`);
      break;
    }
  }
  return lines.join("\n");
}

/** Copies the outputs into a temporary cache entry, then renames it into place. */
async function publish(
  buildDir: string,
  source: LinuxSource,
  partial: Omit<LinuxManifest, "files" | "timings" | "release">,
  timings: LinuxManifest["timings"],
  hasModules: boolean,
  signal?: AbortSignal,
): Promise<LinuxBuild> {
  const finalDir = join(kernelsDir(), `${partial.name}-${partial.key}`);
  const temp = join(kernelsDir(), `.tmp-${partial.key}-${process.pid}`);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  try {
    const files: LinuxManifest["files"] = {};
    const copy = async (from: string, to: string) => {
      await copyFile(join(buildDir, from), join(temp, to));
      files[to] = { bytes: (await stat(join(temp, to))).size };
    };
    await copy("vmlinux", "vmlinux");
    await copy("arch/x86/boot/bzImage", "bzImage");
    await copy("System.map", "System.map");
    await copy(".config", "config");
    await copy("build.log", "build.log");
    // vmlinux-gdb.py and scripts/gdb are symlinks into the source in an O= build: copy what they point to.
    await cp(join(buildDir, "vmlinux-gdb.py"), join(temp, "vmlinux-gdb.py"), { dereference: true });
    await cp(join(buildDir, "scripts", "gdb"), join(temp, "scripts", "gdb"), { recursive: true, dereference: true, filter: (path) => !/\.(o|cmd)$/.test(path) });
    if (hasModules) {
      await execa("make", ["-C", source.dir, `O=${buildDir}`, "ARCH=x86_64", `INSTALL_MOD_PATH=${join(temp, "modules")}`, "modules_install"], { cancelSignal: signal, stdin: "ignore" });
    }
    signal?.throwIfAborted();
    const release = (await readFile(join(buildDir, "include", "config", "kernel.release"), "utf8")).trim();
    const manifest: LinuxManifest = { ...partial, release, files, timings };
    await writeFile(join(temp, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    for (const name of ["vmlinux", "bzImage", "System.map", "config", "manifest.json"]) await chmod(join(temp, name), 0o444);
    await rm(finalDir, { recursive: true, force: true });
    await rename(temp, finalDir);
    return linuxBuildFromDir(finalDir, manifest, false);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Kernel sources for `kbook linux build`: Debian's linux-source package (the default: unpacked
 * once into the cache, offline after that) or a tree of the user's own. Debian's tarball is
 * unpacked into a pristine copy that is never written, and a working copy beside it takes the
 * patches a learner makes; a user's tree is built out of tree (`make O=`) and kbook writes into
 * it only when asked to apply a patch there.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { cacheRoot } from "../paths.js";
import { runTool } from "../system/run.js";
import { KbookError, UsageError } from "../errors/index.js";
import type { ProgressReporter } from "../progress/index.js";

/** Where Debian's linux-source-<series> package puts its tarball. */
export const DEBIAN_SOURCE_DIR = "/usr/src";

export interface LinuxSource {
  /** "debian" (linux-source package) or "tree" (the user's own). */
  kind: "debian" | "tree";
  /** The tree make builds from (for Debian: the working copy). */
  dir: string;
  /** For Debian: the unpacked package, never written. */
  pristineDir?: string;
  /** Short stable name for cache paths: "debian-6.1.192-3", "tree-1a2b3c4d". */
  id: string;
  /** The kernel version from the top Makefile, e.g. "6.1.192". */
  version: string;
  /** Debian package version, when from Debian. */
  packageVersion?: string;
}

export function linuxCacheDir(): string {
  return join(cacheRoot(), "linux");
}

/** The kernel version a tree's top Makefile declares, or undefined when it is not a kernel tree. */
export function treeVersion(dir: string): string | undefined {
  let makefile: string;
  try {
    makefile = readFileSync(join(dir, "Makefile"), "utf8").slice(0, 4000);
  } catch {
    return undefined;
  }
  const field = (name: string) => new RegExp(`^${name}\\s*=\\s*(\\S*)`, "m").exec(makefile)?.[1];
  const [version, patchlevel, sublevel] = [field("VERSION"), field("PATCHLEVEL"), field("SUBLEVEL")];
  if (!version || !patchlevel || !existsSync(join(dir, "Kconfig")) || !existsSync(join(dir, "arch", "x86", "Kconfig"))) return undefined;
  return `${version}.${patchlevel}${sublevel ? `.${sublevel}` : ""}${field("EXTRAVERSION") ?? ""}`;
}

/** Checks a user's tree: a kernel tree, with no in-tree build (which `make O=` refuses). */
export function checkUserTree(path: string): LinuxSource {
  const dir = resolve(path);
  if (!existsSync(dir)) throw new UsageError(`Kernel source ${path} does not exist.`, { hint: "Pass the top of a Linux tree (the folder with Makefile, Kconfig and arch/)." });
  const version = treeVersion(dir);
  if (!version) {
    throw new UsageError(`${path} is not a Linux source tree (no top-level Makefile with VERSION, Kconfig and arch/x86).`, {
      hint: "Pass the top of a Linux tree, e.g. a git checkout of torvalds/linux, or leave --source out to use Debian's linux-source package.",
    });
  }
  if (existsSync(join(dir, ".config")) || existsSync(join(dir, "include", "config"))) {
    throw new UsageError(`${path} has an in-tree build (.config or include/config): kbook builds out of tree (make O=…), which the kernel refuses while one exists.`, {
      hint: `Run 'make -C ${dir} mrproper' to remove it (save your .config first and pass it with --config FILE).`,
    });
  }
  return { kind: "tree", dir, id: `tree-${createHash("sha256").update(dir).digest("hex").slice(0, 8)}`, version };
}

/** Debian's newest linux-source tarball in /usr/src, or undefined when the package is not installed. */
export function findDebianTarball(dir = DEBIAN_SOURCE_DIR): { path: string; series: string } | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const found = names
    .map((n) => /^linux-source-(\d+\.\d+)\.tar\.xz$/.exec(n))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .sort((a, b) => a[1]!.localeCompare(b[1]!, undefined, { numeric: true }));
  const newest = found.at(-1);
  return newest ? { path: join(dir, newest[0]), series: newest[1]! } : undefined;
}

/** The installed Debian package version of linux-source-<series>. */
async function debianPackageVersion(series: string): Promise<string | undefined> {
  const r = await execa("dpkg-query", ["-W", "-f", "${Version}", `linux-source-${series}`], { reject: false });
  return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/**
 * Debian's source, unpacked into the cache on first use (about 10 s), with its working copy.
 * Both are made in a temporary directory and renamed into place, so a half-unpacked tree is
 * never used.
 */
export async function debianSource(progress: ProgressReporter, signal?: AbortSignal): Promise<LinuxSource> {
  const tarball = findDebianTarball();
  if (!tarball) {
    throw new UsageError("Debian's kernel source is not installed (no /usr/src/linux-source-*.tar.xz).", {
      hint: "Run 'kbook doctor --install' (or apt-get install linux-source-6.1), or pass --source PATH with a tree of your own.",
    });
  }
  const packageVersion = (await debianPackageVersion(tarball.series)) ?? tarball.series;
  const id = `debian-${packageVersion}`.replace(/[^A-Za-z0-9.+-]/g, "_");
  const base = join(linuxCacheDir(), "sources", id);
  const pristineDir = join(base, "pristine");
  const dir = join(base, "tree");
  if (!existsSync(pristineDir)) {
    progress.report("source", `unpacking ${tarball.path} (once)`);
    await mkdir(base, { recursive: true });
    const temp = join(base, `.unpack-${process.pid}`);
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp);
    try {
      await runTool("tar", ["-xf", tarball.path, "-C", temp], { stage: "unpacking the kernel source", signal });
      const [top] = await readdir(temp);
      if (!top || !treeVersion(join(temp, top))) throw new KbookError(`${tarball.path} did not unpack to a kernel tree.`);
      await rename(join(temp, top), pristineDir);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }
  if (!existsSync(dir)) await resetWorkingCopy({ kind: "debian", dir, pristineDir, id, version: "", packageVersion }, progress, signal);
  return { kind: "debian", dir, pristineDir, id, version: treeVersion(pristineDir)!, packageVersion };
}

/** Makes the working copy of a Debian source the pristine tree again (your patches are dropped). */
export async function resetWorkingCopy(source: LinuxSource, progress?: ProgressReporter, signal?: AbortSignal): Promise<void> {
  if (source.kind !== "debian" || !source.pristineDir) throw new UsageError("Only the cached copy of Debian's source can be reset; your own tree is yours to manage (git checkout).");
  progress?.report("source", "making a working copy of the source");
  const temp = `${source.dir}.copy-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  try {
    await runTool("cp", ["-a", "--", source.pristineDir, temp], { stage: "copying the kernel source", signal });
    await rm(source.dir, { recursive: true, force: true });
    await rename(temp, source.dir);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** The source a build uses: the user's tree, or Debian's working copy. */
export async function resolveLinuxSource(sourcePath: string | undefined, progress: ProgressReporter, signal?: AbortSignal): Promise<LinuxSource> {
  return sourcePath ? checkUserTree(sourcePath) : debianSource(progress, signal);
}

/**
 * A stamp of the tree's state: every file's path, size and modification time, hashed (about
 * 0.5 s for a kernel tree). Any edit changes it; `kconfig` covers only the Kconfig files, whose
 * change alone means the configuration must be made again.
 */
export function treeStamp(dir: string): { all: string; kconfig: string } {
  const all = createHash("sha256");
  const kconfig = createHash("sha256");
  const walk = (path: string, rel: string): void => {
    const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name === ".git") continue;
      const child = join(path, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        walk(child, childRel);
        continue;
      }
      const st = lstatSync(child, { bigint: true });
      const line = `${childRel}\0${st.size}\0${st.mtimeNs}\n`;
      all.update(line);
      if (entry.name.startsWith("Kconfig") || entry.name === "Makefile") kconfig.update(line);
    }
  };
  walk(dir, "");
  return { all: all.digest("hex").slice(0, 16), kconfig: kconfig.digest("hex").slice(0, 16) };
}

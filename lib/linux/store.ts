/**
 * Built kernels in the cache: `$KBOOK_CACHE/linux/kernels/<name>-<key>/`, each with the boot
 * files, vmlinux with DWARF, the gdb scripts and a manifest. A directory appears only by an
 * atomic rename of a finished build, so one with a manifest is always complete.
 */
import { existsSync } from "node:fs";
import { readFile, readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UsageError } from "../errors/index.js";
import { linuxCacheDir } from "./source.js";

export interface LinuxManifest {
  format: 1;
  kind: "linux";
  /** The build's name ("learn", or --name), and its cache key. */
  name: string;
  key: string;
  /** `uname -r` of the kernel. */
  release: string;
  source: { kind: "debian" | "tree"; id: string; dir: string; version: string; packageVersion?: string };
  config: { preset: string; sha256: string; requested: string[]; dropped: string[] };
  compiler: string;
  createdAt: string;
  /** Milliseconds: the config step, make, and the whole build. */
  timings: { configMs: number; makeMs: number; totalMs: number };
  /** Objects make compiled in this build (0 for a build that only relinked). */
  objectsCompiled: number;
  /** The persistent build directory (`make O=`), reused by incremental rebuilds. */
  buildDir: string;
  files: Record<string, { bytes: number }>;
  hasModules: boolean;
}

/** A built kernel, ready to boot and debug. */
export interface LinuxBuild {
  dir: string;
  manifest: LinuxManifest;
  /** The file QEMU boots (the uncompressed vmlinux, through PVH) and gdb loads. */
  vmlinux: string;
  bzImage: string;
  /** The kernel's .config. */
  config: string;
  /** The directory with vmlinux-gdb.py and scripts/gdb (gdb's auto-load path). */
  gdbScriptsDir: string;
  /** The tree the DWARF file names point into, for gdb's `list`. */
  sourceDir: string;
  /** True when this call built nothing (the cache had it). */
  cached: boolean;
}

export function kernelsDir(): string {
  return join(linuxCacheDir(), "kernels");
}

async function readLinuxManifest(dir: string): Promise<LinuxManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as LinuxManifest;
    return manifest.kind === "linux" ? manifest : undefined;
  } catch {
    return undefined;
  }
}

function fromDir(dir: string, manifest: LinuxManifest, cached = true): LinuxBuild {
  return {
    dir,
    manifest,
    vmlinux: join(dir, "vmlinux"),
    bzImage: join(dir, "bzImage"),
    config: join(dir, "config"),
    gdbScriptsDir: dir,
    sourceDir: manifest.source.dir,
    cached,
  };
}

/** A kernel directory anywhere on disk (one with a kbook linux manifest). */
export async function readLinuxBuildDir(dir: string): Promise<LinuxBuild | undefined> {
  const manifest = await readLinuxManifest(dir);
  return manifest ? fromDir(dir, manifest) : undefined;
}

/** All built kernels, newest first. */
export async function listLinuxBuilds(): Promise<LinuxBuild[]> {
  const names = await readdir(kernelsDir()).catch(() => [] as string[]);
  const builds: LinuxBuild[] = [];
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const build = await readLinuxBuildDir(join(kernelsDir(), name));
    if (build) builds.push(build);
  }
  return builds.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt));
}

/** The built kernel with exactly this key. */
export async function findLinuxBuildByKey(key: string): Promise<LinuxBuild | undefined> {
  return (await listLinuxBuilds()).find((b) => b.manifest.key === key);
}

/**
 * A kernel named by the user: a directory, a `<name>-<key>` entry, a key, or a build name (the
 * newest build of that name).
 */
export async function resolveLinuxBuild(ref: string): Promise<LinuxBuild> {
  if (ref.includes("/") || ref.startsWith(".")) {
    const build = await readLinuxBuildDir(resolve(ref));
    if (!build) {
      throw new UsageError(`${ref} is not a kernel built by kbook (no linux manifest.json).`, {
        hint: existsSync(join(ref, "arch", "x86", "boot", "bzImage")) ? "To boot a kernel you built yourself, pass --kernel PATH/arch/x86/boot/bzImage (or its vmlinux)." : "See 'kbook linux list'.",
      });
    }
    return build;
  }
  const builds = await listLinuxBuilds();
  const found = builds.find((b) => `${b.manifest.name}-${b.manifest.key}` === ref || b.manifest.key === ref) ?? builds.find((b) => b.manifest.name === ref);
  if (!found) {
    throw new UsageError(`No kernel build named ${ref}.`, {
      hint: builds.length ? `Built: ${[...new Set(builds.map((b) => b.manifest.name))].join(", ")} (kbook linux list).` : "Build one with 'kbook linux build' (the learn config takes about 7 minutes on two cores).",
    });
  }
  return found;
}

/** Removes a built kernel (the persistent build directory stays for the next incremental build). */
export async function removeLinuxBuild(build: LinuxBuild): Promise<void> {
  await rm(build.dir, { recursive: true, force: true });
}

export { fromDir as linuxBuildFromDir };

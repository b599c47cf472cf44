/**
 * Debian's kernel debug symbols: `linux-image-<release>-dbg` carries the unstripped vmlinux (with
 * DWARF) of the matching linux-image package. The package is ≈ 815 MB and 5.3 GB unpacked,
 * mostly module debug info, so only the vmlinux is taken out of it: `dpkg-deb --fsys-tarfile`
 * streamed into `tar -x` for that one file, then the .deb is deleted.
 *
 * The version must match the guest's kernel exactly: the `linux-image-amd64-dbg` metapackage can
 * point at a newer security update than the image's kernel. The build ID check in symbols.ts
 * catches a mismatch.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { KbookError, ToolError, tail } from "../errors/index.js";
import { ProgressReporter, type ProgressListener } from "../progress/index.js";
import { runTool } from "../system/run.js";

function cachePath(cacheDir: string, release: string, version?: string): string {
  return join(cacheDir, "gdb", "debian-dbg", release, version ?? "any", "vmlinux");
}

/** The cached debug vmlinux for a release (and version, when given), if one was fetched before. */
export function cachedDebianDebugVmlinux(cacheDir: string, release: string, version?: string): string | undefined {
  const exact = cachePath(cacheDir, release, version);
  if (existsSync(exact)) return exact;
  if (version) return undefined;
  const any = cachePath(cacheDir, release);
  return existsSync(any) ? any : undefined;
}

/** Downloads linux-image-<release>-dbg (optionally `=version`) and keeps its vmlinux in the cache. */
export async function fetchDebianDebugVmlinux(options: {
  release: string;
  version?: string;
  cacheDir: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}): Promise<string> {
  const { release, version, cacheDir, signal } = options;
  if (!/^[0-9][0-9A-Za-z.+~-]*$/.test(release) || (version !== undefined && !/^[0-9][0-9A-Za-z.+:~-]*$/.test(version))) {
    throw new KbookError(`'${release}${version ? ` ${version}` : ""}' is not a Debian kernel release/version.`);
  }
  const progress = new ProgressReporter(options.onProgress);
  const target = cachePath(cacheDir, release, version);
  const work = join(cacheDir, "gdb", "debian-dbg", `.work-${process.pid}-${Date.now()}`);
  await mkdir(work, { recursive: true });
  try {
    const pkg = `linux-image-${release}-dbg${version ? `=${version}` : ""}`;
    progress.report("download", `apt-get download ${pkg} (about 815 MB)`);
    await runTool("apt-get", ["download", "-q", pkg], {
      cwd: work,
      signal,
      stage: `download ${pkg}`,
      hint: "Check the apt sources ('apt-get update' as root); the version must be one the mirror still carries.",
    });
    const deb = (await readdir(work)).find((f) => f.endsWith(".deb"));
    if (!deb) throw new KbookError(`apt-get download ${pkg} produced no .deb file.`);
    progress.report("extract", `taking vmlinux out of ${deb}`);
    const vmlinux = await extractDebugVmlinux(join(work, deb), join(work, "x"), signal);
    await mkdir(join(target, ".."), { recursive: true });
    await rename(vmlinux, target);
    progress.report("done", target, { done: true });
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Extracts only the vmlinux (under usr/lib/debug) from a kernel -dbg .deb into `destDir` and
 * returns its path. Streams the archive, so the 5 GB of module debug info never touch the disk.
 */
export async function extractDebugVmlinux(debPath: string, destDir: string, signal?: AbortSignal): Promise<string> {
  await mkdir(destDir, { recursive: true });
  const result = await execa("dpkg-deb", ["--fsys-tarfile", debPath], { cancelSignal: signal, reject: false, buffer: { stdout: false } })
    .pipe("tar", ["-x", "-C", destDir, "--wildcards", "*usr/lib/debug/*vmlinux*"], { reject: false })
    .catch((error: unknown) => error as { failed: true; exitCode?: number; stderr?: string });
  const found = await findVmlinux(join(destDir, "usr", "lib", "debug"));
  if (!found) {
    throw new ToolError("tar", `No vmlinux under usr/lib/debug in ${debPath}.`, {
      exitCode: "exitCode" in result ? result.exitCode : undefined,
      stderrTail: "stderr" in result && typeof result.stderr === "string" ? tail(result.stderr) : undefined,
    });
  }
  return found;
}

/** The largest regular file named vmlinux* below `dir` (boot/vmlinux-<release> in Debian). */
async function findVmlinux(dir: string): Promise<string | undefined> {
  let best: { path: string; size: number } | undefined;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.startsWith("vmlinux")) {
        const { size } = await stat(p);
        if (!best || size > best.size) best = { path: p, size };
      }
    }
  };
  await walk(dir);
  return best?.path;
}

/**
 * Removing a build's work directory safely. mmdebstrap (root mode) mounts /proc, /sys, /dev/pts
 * and /dev/shm inside the rootfs while it runs; if it is killed mid-build those mounts stay, and
 * a recursive delete would walk into the host's /proc, /sys and /dev/shm. So everything mounted
 * below the directory is unmounted (deepest first, lazily) before anything is deleted.
 */
import { readFile, rm } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { execa } from "execa";
import { KbookError } from "../errors/index.js";

/** Mount points at or below `dir`, deepest first. /proc/mounts escapes spaces as \040. */
export function mountsBelow(procMounts: string, dir: string): string[] {
  const root = resolve(dir);
  return procMounts
    .split("\n")
    .map((line) => line.split(" ")[1])
    .filter((m): m is string => Boolean(m))
    .map((m) => m.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((m) => m === root || m.startsWith(root + sep))
    .sort((a, b) => b.length - a.length);
}

export async function removeWorkDir(dir: string): Promise<void> {
  const mounts = mountsBelow(await readFile("/proc/mounts", "utf8").catch(() => ""), dir);
  for (const mount of mounts) {
    await execa("umount", ["--lazy", mount], { reject: false });
  }
  const still = mountsBelow(await readFile("/proc/mounts", "utf8").catch(() => ""), dir);
  if (still.length) {
    throw new KbookError(`Cannot remove ${dir}: ${still.join(", ")} still mounted.`, { hint: `Unmount them (umount -l PATH) and delete ${dir} by hand.` });
  }
  await rm(dir, { recursive: true, force: true });
}

/**
 * Images for integration tests, built on first use into the test cache (vitest.config.ts sets
 * KBOOK_CACHE) and reused by every later test file.
 */
import { buildImage, type StoredImage } from "../../lib/images/index.js";
import { isRunning } from "./processes.js";

const built = new Map<string, Promise<StoredImage>>();

export function testImage(kind: "busybox" | "debian"): Promise<StoredImage> {
  let image = built.get(kind);
  if (!image) {
    image = buildImage(kind, {
      onProgress: (e) => process.stderr.write(`[test image ${kind}] ${(e.elapsedMs / 1000).toFixed(1)} s ${e.stage}${e.message ? `: ${e.message}` : ""}\n`),
    });
    built.set(kind, image);
  }
  return image;
}

/** PIDs of running qemu-system processes (from /proc, no ps needed); zombies awaiting a reaper are not running. */
export async function qemuPids(): Promise<number[]> {
  const { readdir, readFile } = await import("node:fs/promises");
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const comm = await readFile(`/proc/${name}/comm`, "utf8").catch(() => "");
    if (comm.startsWith("qemu-system") && isRunning(Number(name))) pids.push(Number(name));
  }
  return pids;
}

import { readFileSync } from "node:fs";

/**
 * Whether a process is running. A zombie waiting for its reaper holds no resources and counts
 * as gone (this machine's PID 1 can take ~2 s to reap re-parented children).
 */
export function isRunning(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

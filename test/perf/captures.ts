/**
 * kbook's own `perf script` captures (testdata/README.md says how each was recorded), the
 * folded stacks kbook made of one of them, and the collapse flags tests run them with.
 */
import { join } from "node:path";

/** stackcollapse-perf.pl's flags, as CollapseOptions keys. */
export const COLLAPSE_FLAGS = ["pid", "tid", "kernel", "jit", "all", "addrs"] as const;

/**
 * guest-dd: the article's dd in the Debian guest, all CPUs (swapper, perf, dd; kernel frames).
 * guest-sort-events: two events (page-faults first, then cpu-clock), pid/tid, two sort threads.
 * host-node-jit: Node with --perf-basic-prof on the host: JIT frames from /tmp/perf-PID.map.
 */
export const CAPTURES = ["guest-dd", "guest-sort-events", "host-node-jit"] as const;
export type CaptureName = (typeof CAPTURES)[number];

const testdata = join(import.meta.dirname, "testdata");

export function capturePath(name: CaptureName): string {
  return join(testdata, `${name}.txt`);
}

/** guest-dd.txt collapsed with --all (written by `kbook collapse --all`). */
export const GUEST_DD_FOLDED = join(testdata, "guest-dd.folded");

/**
 * FlameGraph's own collapse test suite, shared with the project (never copied into it): perf
 * script captures and what stackcollapse-perf.pl prints for them with each option.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../lib/assets.js";

export const PEER_DIR = join(packageRoot(), "..", "shared", "peer", "flamegraph-tests");
export const PEER_OPTIONS = ["pid", "tid", "kernel", "jit", "all", "addrs"] as const;

/** Capture names without ".txt" (13 of them). */
export function peerCaptures(): string[] {
  if (!existsSync(PEER_DIR)) throw new Error(`FlameGraph test data missing: ${PEER_DIR}`);
  return readdirSync(PEER_DIR)
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function peerInput(name: string): string {
  return join(PEER_DIR, `${name}.txt`);
}

export function peerExpected(name: string, option: string): string {
  return join(PEER_DIR, "results", `${name}-collapsed-${option}.txt`);
}

/**
 * Where FlameGraph's own collapse test suite is: Brendan Gregg's `perf script` captures and what
 * stackcollapse-perf.pl prints for them (github.com/brendangregg/FlameGraph, test/, CDDL 1.0).
 * It sits beside the project, in ../shared/peer/flamegraph-tests, and must never be copied into
 * it: only the conformance test (test/perf/conformance.test.ts) reads it; every other test reads
 * kbook's own captures under test/perf/testdata.
 *
 * KBOOK_PEER_SUITE names another place, e.g. a path that does not exist, to see what a bare
 * clone sees.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../lib/paths.js";

export function peerSuiteDir(): string {
  return process.env.KBOOK_PEER_SUITE || join(packageRoot(), "..", "shared", "peer", "flamegraph-tests");
}

export function hasPeerSuite(): boolean {
  return existsSync(join(peerSuiteDir(), "results"));
}

/** On CI the suite is always there (the CI machine has ../shared): missing, it is a failure. */
export function onCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

/**
 * The collapser against stackcollapse-perf.pl, byte for byte, on FlameGraph's own test suite:
 * each of its captures with each flag. The suite is read where it lies (test/support/peer-suite.ts),
 * never copied in. Without it this file is skipped, saying where it looked, except on CI,
 * where a missing suite is a failure: the claim "same output as stackcollapse-perf.pl" rests
 * on this test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PerfScriptCollapser } from "../../lib/perf/index.js";
import { hasPeerSuite, onCi, peerSuiteDir } from "../support/peer-suite.js";
import { COLLAPSE_FLAGS } from "./captures.js";

const dir = peerSuiteDir();
const title = "collapse matches stackcollapse-perf.pl byte for byte (FlameGraph's test suite)";

if (hasPeerSuite()) {
  const captures = readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -4))
    .sort();
  const cases = captures.flatMap((name) => COLLAPSE_FLAGS.map((flag) => [name, flag] as const));

  describe(title, () => {
    it("has the 78 cases", () => {
      expect(captures).toHaveLength(13);
      expect(cases).toHaveLength(78);
    });

    it.each(cases)("%s --%s", (name, flag) => {
      const collapser = new PerfScriptCollapser({ [flag]: true });
      collapser.push(readFileSync(join(dir, `${name}.txt`)));
      const out = collapser.end().toBuffer();
      expect(out.equals(readFileSync(join(dir, "results", `${name}-collapsed-${flag}.txt`)))).toBe(true);
    });
  });
} else {
  describe(title, () => {
    it("needs FlameGraph's test suite", (context) => {
      if (onCi()) {
        throw new Error(
          `FlameGraph's test suite is missing: there is no ${join(dir, "results")}. CI must run this conformance test: ` +
            "put FlameGraph's test/ folder there (../shared/peer/flamegraph-tests beside the repository) or point KBOOK_PEER_SUITE at it.",
        );
      }
      context.skip(`skipped: FlameGraph's test suite is not at ${dir}`);
    });
  });
}

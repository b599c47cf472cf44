/**
 * jupyter_kernel_test (the Jupyter project's kernel conformance suite, Debian's
 * python3-jupyter-kernel-test) with every test it has enabled: none may fail, error or be skipped,
 * sub-tests included (the suite skips what a kernel gives no sample for).
 */
import { beforeAll, describe, expect, test } from "vitest";
import { execa } from "execa";
import { join } from "node:path";
import { packageRoot } from "../../lib/paths.js";
import { ensureProjectKernelSpec, jupyterPathWith } from "../../lib/notebooks/kernelspec.js";

const RUNNER = `
import json, sys, unittest
import jupyter_kernel_test
sys.path.insert(0, sys.argv[1])
import test_kbook_kernel
suite = unittest.defaultTestLoader.loadTestsFromTestCase(test_kbook_kernel.KbookKernelTests)
result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
print(json.dumps({
    "suite": sorted(n for n in dir(jupyter_kernel_test.KernelTests) if n.startswith("test_")),
    "run": result.testsRun,
    "failures": [str(t) + ": " + m for t, m in result.failures + result.errors],
    "skipped": [str(t) + ": " + r for t, r in result.skipped],
}))
`;

describe("jupyter_kernel_test", () => {
  let outcome: { suite: string[]; run: number; failures: string[]; skipped: string[] };

  beforeAll(async () => {
    const dataDir = ensureProjectKernelSpec();
    const child = await execa("/usr/bin/python3", ["-c", RUNNER, join(packageRoot(), "test", "kernel")], {
      env: { JUPYTER_PATH: jupyterPathWith(dataDir), PYDEVD_DISABLE_FILE_VALIDATION: "1" },
      reject: false,
      timeout: 240_000,
    });
    const last = String(child.stdout).trim().split("\n").pop() ?? "";
    if (!last.startsWith("{")) throw new Error(`the suite did not run:\n${child.stderr}`);
    outcome = JSON.parse(last);
  }, 300_000);

  test("every test of the suite runs and passes, none skipped", () => {
    expect(outcome.suite.length).toBeGreaterThanOrEqual(12);
    expect(outcome.failures).toEqual([]);
    expect(outcome.skipped).toEqual([]);
    expect(outcome.run).toBe(outcome.suite.length);
  });
});

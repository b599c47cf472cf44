/**
 * `kbook run`: a notebook executed by Jupyter's own client (nbclient, Debian's) with the kbook
 * kernel: TypeScript cells, a type error, an exception followed by cells that still run
 * (--allow-errors), display updates, an ESM-only package with top-level await (vega 6), %%host.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { execa } from "execa";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../lib/paths.js";

interface Output {
  output_type: string;
  ename?: string;
  evalue?: string;
  text?: string;
  data?: Record<string, string>;
  execution_count?: number;
}
interface Notebook {
  cells: { cell_type: string; execution_count: number | null; outputs?: Output[] }[];
}

/** nbformat stores multi-line strings as arrays of lines; join them back. */
function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, "utf8"), (key, value: unknown) =>
    Array.isArray(value) && (key === "text" || key.includes("/")) ? value.join("") : value,
  ) as Notebook;
}

const cli = join(packageRoot(), "dist", "lib", "cli", "main.js");
const tour = join(packageRoot(), "test", "kernel", "testdata", "tour.ipynb");

describe("kbook run (nbclient)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kbook-run-"));
  let allowErrors: { exitCode?: number; stderr: string; notebook: Notebook };

  beforeAll(async () => {
    const out = join(dir, "tour-all.ipynb");
    const child = await execa(process.execPath, [cli, "run", tour, "-o", out, "--allow-errors"], { reject: false });
    allowErrors = { exitCode: child.exitCode, stderr: String(child.stderr), notebook: readNotebook(out) };
  }, 180_000);

  const code = () => allowErrors.notebook.cells.filter((c) => c.cell_type === "code");

  test("every cell ran, in order, after the type error and the exception", () => {
    expect(code().map((c) => c.execution_count)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(code()[0]!.outputs).toMatchObject([{ output_type: "execute_result", execution_count: 1, data: { "text/plain": "'HELLO'" } }]);
    expect(code()[3]!.outputs![0]!.data).toEqual({ "text/plain": "'hello, still running'" });
  });

  test("a type error is an error output naming line and column; an exception keeps its name", () => {
    expect(code()[1]!.outputs).toMatchObject([{ output_type: "error", ename: "TypeScriptError", evalue: "line 1, column 7: Type 'string' is not assignable to type 'number'." }]);
    expect(code()[2]!.outputs).toMatchObject([{ output_type: "error", ename: "Error", evalue: "expected failure" }]);
  });

  test("a display updated in place is saved with its last content", () => {
    expect(code()[4]!.outputs).toMatchObject([
      { output_type: "display_data", data: { "text/plain": "'step 2'" } },
      { output_type: "stream", name: "stdout", text: "updated\n" },
    ]);
  });

  test("vega 6 (ESM only, top-level await inside) imports and renders", () => {
    const [svg, version] = code()[5]!.outputs!;
    expect(svg!.data!["image/svg+xml"]).toMatch(/^<svg[\s\S]*steelblue/);
    expect(version!.data!["text/plain"]).toMatch(/^'6\.\d+\.\d+'$/);
  });

  test("%%host streams into its cell and binds --out for the next cell", () => {
    expect(code()[6]!.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "hello from bash\n" }]);
    expect(code()[7]!.outputs![0]!.data).toEqual({ "text/plain": "15" });
  });

  test("with --allow-errors the run still fails, listing each failing cell, with progress per cell", () => {
    expect(allowErrors.exitCode).toBe(1);
    expect(allowErrors.stderr).toContain("kbook: cell 2 failed: TypeScriptError: line 1, column 7:");
    expect(allowErrors.stderr).toContain("kbook: cell 3 failed: Error: expected failure");
    expect(allowErrors.stderr).toMatch(/\[kbook run\] cell 8\/8 done in \d+\.\d s/);
  });

  test("without --allow-errors the first failing cell stops the run: exit 1, its number and error, no Python stack", async () => {
    const out = join(dir, "tour-stop.ipynb");
    const child = await execa(process.execPath, [cli, "run", tour, "-o", out], { reject: false });
    expect(child.exitCode).toBe(1);
    expect(child.stderr).toContain("kbook: cell 2 failed: TypeScriptError: line 1, column 7: Type 'string' is not assignable to type 'number'.");
    expect(child.stderr).not.toMatch(/Traceback|File ".*\.py"/);
    const saved = readNotebook(out);
    expect(saved.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count)).toEqual([1, 2, null, null, null, null, null, null]);
  }, 120_000);

  test("--timeout fails a cell that runs too long, naming it; the kernel's start does not count", async () => {
    const slow = join(packageRoot(), "test", "kernel", "testdata", "slow.ipynb");
    const child = await execa(process.execPath, [cli, "run", slow, "-o", join(dir, "slow.ipynb"), "--timeout", "2"], { reject: false });
    expect(child.exitCode).toBe(1);
    expect(child.stderr).toMatch(/\[kbook run\] kernel ready in \d+\.\d s/);
    expect(child.stderr).toContain("kbook: cell 2 failed: Timeout: the cell did not finish within 2 s");
  }, 120_000);
});

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { parseCommandArgs } from "../../lib/cli/command.js";
import { exportCommand } from "../../lib/cli/commands/export.js";
import { UsageError } from "../../lib/errors/index.js";
import { code, display, markdown, notebook } from "./notebooks.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kbook-export-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  try {
    const code = await exportCommand.run!(parseCommandArgs(exportCommand, argv));
    return { code, stdout: stdout.join(""), stderr: stderr.join("") };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("kbook export", () => {
  test("writes the page, prints its path, and reports removed scripts", async () => {
    const input = join(dir, "demo.ipynb");
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/><script>alert(1)</script></svg>';
    await writeFile(input, JSON.stringify(notebook([markdown("# Demo"), code("x", [display({ "image/svg+xml": svg })])])));
    const result = await run([input, "-o", join(dir, "out", "demo.html"), "--title", "My <title>"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${join(dir, "out", "demo.html")}\n`);
    expect(result.stderr).toMatch(/note: o1: 1 script\(s\) removed/);
    expect(result.stderr).toMatch(/kbook export: 2 cells, [\d.]+ MB in [\d.]+ s/);
    const html = await readFile(join(dir, "out", "demo.html"), "utf8");
    expect(html).toContain("<title>My &lt;title&gt;</title>");
  });

  test("defaults the output to NOTEBOOK.html next to the notebook", async () => {
    const input = join(dir, "plain.ipynb");
    await writeFile(input, JSON.stringify(notebook([markdown("text")])));
    expect((await run([input])).stdout).toBe(`${join(dir, "plain.html")}\n`);
  });

  test("bad input is a UsageError that says what is wrong", async () => {
    await writeFile(join(dir, "bad.ipynb"), "{ not json");
    await expect(run([join(dir, "bad.ipynb")])).rejects.toThrow(/is not a notebook: it is not valid JSON/);
    await writeFile(join(dir, "v3.ipynb"), JSON.stringify({ nbformat: 3, cells: [] }));
    await expect(run([join(dir, "v3.ipynb")])).rejects.toThrow(/nbformat 3; kbook export reads nbformat 4/);
    await expect(run([join(dir, "missing.ipynb")])).rejects.toThrow(/Cannot read the notebook .* \(ENOENT\)/);
    await expect(run([])).rejects.toBeInstanceOf(UsageError);
  });
});

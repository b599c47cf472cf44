import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it, vi } from "vitest";
import { parseCommandArgs } from "../../lib/cli/command.js";
import { collapseCommand } from "../../lib/cli/commands/collapse.js";
import { UsageError } from "../../lib/errors/index.js";
import { collapsePerfScriptFile } from "../../lib/perf/index.js";
import { GUEST_DD_FOLDED, capturePath } from "./captures.js";

const dir = mkdtempSync(join(tmpdir(), "kbook-collapse-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(collapseCommand, argv);
  return collapseCommand.run!(parsed);
}

describe("kbook collapse", () => {
  it("writes the folded stacks of a file", async () => {
    const out = join(dir, "dd.folded");
    expect(await run([capturePath("guest-dd"), "--all", "-o", out])).toBe(0);
    expect(readFileSync(out).equals(readFileSync(GUEST_DD_FOLDED))).toBe(true);
  });

  it("takes --event-filter, and says which events it left out", async () => {
    // The capture starts with "page-faults" samples; most of the later ones are "cpu-clock".
    const clock = join(dir, "cpu-clock.folded");
    const faults = join(dir, "page-faults.folded");
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    let warnings: string;
    try {
      await run([capturePath("guest-sort-events"), "--event-filter", "cpu-clock", "-o", clock]);
      await run([capturePath("guest-sort-events"), "-o", faults]);
      warnings = stderr.mock.calls.map(([text]) => String(text)).join("");
    } finally {
      stderr.mockRestore();
    }
    expect(warnings).toContain(
      "Only samples of event 'page-faults' were kept; skipped: cpu-clock (453). Choose with --event-filter.",
    );
    expect(readFileSync(clock, "utf8")).not.toBe(readFileSync(faults, "utf8"));
    expect(readFileSync(clock, "utf8")).toMatch(/^sort;/m);
    expect(readFileSync(faults, "utf8")).toMatch(/;load_elf_binary;/);
  });

  it("refuses what is not perf script output, naming the line", async () => {
    const error = await run([GUEST_DD_FOLDED]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/line 1 did not parse/);
    await expect(run([join(dir, "missing.txt")])).rejects.toThrow(/no such file/);
    await expect(run(["--bogus"])).rejects.toThrow(UsageError);
  });

  it("reads standard input in a pipeline, as the installed CLI does", async () => {
    // Cut inside the last sample, as a perf script killed mid-output leaves it.
    const text = readFileSync(capturePath("guest-dd"), "latin1");
    const cut = join(dir, "cut.txt");
    const last = text.lastIndexOf("\n\n", text.length - 3) + 2;
    writeFileSync(cut, text.slice(0, text.indexOf("\n", text.indexOf("\n", last) + 1) + 1), "latin1");
    const result = await execa("npx", ["vite-node", "lib/cli/main.ts", "collapse", "--kernel"], { inputFile: cut, reject: false });
    expect(result.exitCode).toBe(0);
    expect(result.stdout + "\n").toBe(collapsePerfScriptFile(cut, { kernel: true }).folded.toString());
    expect(result.stdout).toMatch(/_\[k\] \d+$/m);
    expect(result.stderr).toMatch(/ends inside a sample/);
  }, 120_000);
});

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parseCommandArgs } from "../../lib/cli/command.js";
import { collapseCommand } from "../../lib/cli/commands/collapse.js";
import { UsageError } from "../../lib/errors/index.js";
import { peerExpected, peerInput } from "./peer.js";

const dir = mkdtempSync(join(tmpdir(), "kbook-collapse-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(collapseCommand, argv);
  return collapseCommand.run!(parsed);
}

describe("kbook collapse", () => {
  it("writes stackcollapse-perf.pl's output for a file", async () => {
    const out = join(dir, "java.folded");
    expect(await run([peerInput("perf-java-stacks-01"), "--all", "-o", out])).toBe(0);
    expect(readFileSync(out).equals(readFileSync(peerExpected("perf-java-stacks-01", "all")))).toBe(true);
  });

  it("takes --event-filter", async () => {
    // The capture starts with "instructions" samples; "cycles" ones come later.
    const cycles = join(dir, "cycles.folded");
    await run([peerInput("perf-cycles-instructions-01"), "--event-filter", "cycles", "-o", cycles]);
    const instructions = join(dir, "instructions.folded");
    await run([peerInput("perf-cycles-instructions-01"), "-o", instructions]);
    expect(readFileSync(cycles, "utf8")).not.toBe(readFileSync(instructions, "utf8"));
    expect(readFileSync(cycles, "utf8")).toMatch(/^noploop;/m);
  });

  it("refuses what is not perf script output, naming the line", async () => {
    const error = await run([peerExpected("perf-dd-stacks-01", "pid")]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/line 1 did not parse/);
    await expect(run([join(dir, "missing.txt")])).rejects.toThrow(/no such file/);
    await expect(run(["--bogus"])).rejects.toThrow(UsageError);
  });

  it("reads standard input in a pipeline, as the installed CLI does", async () => {
    const result = await execa("npx", ["vite-node", "lib/cli/main.ts", "collapse", "--kernel"], {
      inputFile: peerInput("perf-numa-stacks-01"),
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout + "\n").toBe(readFileSync(peerExpected("perf-numa-stacks-01", "kernel"), "utf8"));
    expect(result.stderr).toMatch(/ends inside a sample/);
  }, 120_000);
});

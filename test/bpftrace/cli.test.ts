import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseCommandArgs } from "../../lib/cli/command.js";
import { bpftraceCommand } from "../../lib/cli/commands/bpftrace.js";
import { UsageError } from "../../lib/errors/index.js";

const fixture = (name: string) => join(import.meta.dirname, "testdata", name);
const run = (argv: string[]) => bpftraceCommand.run!(parseCommandArgs(bpftraceCommand, argv));

describe("kbook bpftrace --input (no VM)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kbook-bpftrace-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes an HTML report with the stack table, chart and flame graph", async () => {
    const out = join(dir, "out.html");
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await run(["--input", fixture("guest-task-tick-fair.txt"), "-o", out])).toBe(0);
    } finally {
      stderr.mockRestore();
    }
    const html = await readFile(out, "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("distinct stacks");
    expect(html).toContain("caller chains");
    expect(html).toContain('class="kbook-flamegraph"');
  });

  it("writes the typed result as JSON", async () => {
    const out = join(dir, "out.json");
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await run(["--input", fixture("all-types.json"), "-o", out]);
    } finally {
      stderr.mockRestore();
    }
    const json = JSON.parse(await readFile(out, "utf8"));
    expect(json.maps.map((m: { name: string }) => m.name)).toContain("@neg");
    expect(json.output).toMatch(/^a,b\n/);
  });

  it("prints the maps as text on stdout", async () => {
    const chunks: string[] = [];
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((c) => (chunks.push(String(c)), true));
    try {
      await run(["--input", fixture("guest-task-tick-fair.txt"), "--top", "2"]);
    } finally {
      stdout.mockRestore();
    }
    const text = chunks.join("");
    const stacks = (await readFile(fixture("guest-task-tick-fair.txt"), "utf8")).split("\n").filter((l) => l === "@[").length;
    expect(text).toContain(`@: ${stacks} distinct stacks`);
    expect(text).toContain(`… ${stacks - 2} more stacks`);
    expect(text.match(/^#\d+ /gm)!.length).toBe(2);
  });

  it("rejects bad arguments before booting anything", async () => {
    await expect(run(["--input", fixture("guest-task-tick-fair.json"), "-o", join(dir, "x.png")])).rejects.toThrow(/must end in .html, .json or .txt/);
    await expect(run([])).rejects.toThrow(UsageError);
    await expect(run(["-e", "BEGIN {}", "file.bt"])).rejects.toThrow(/not both/);
    await expect(run(["-e", "BEGIN {}", "--stack-mode", "fancy"])).rejects.toThrow(/--stack-mode/);
    await expect(run(["--input", join(dir, "missing.txt")])).rejects.toThrow(/Cannot read --input/);
  });
});

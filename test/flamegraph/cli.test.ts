import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, execaSync } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parseCommandArgs, type Command } from "../../lib/cli/command.js";
import { diffFoldedCommand } from "../../lib/cli/commands/diff-folded.js";
import { flamegraphCommand } from "../../lib/cli/commands/flamegraph.js";
import { UsageError } from "../../lib/errors/index.js";
import { GUEST_DD_FOLDED, capturePath } from "../perf/captures.js";
import { hostHasPerf } from "../support/host-guest.js";
import { drawnFrames } from "./svg-titles.js";

const dir = mkdtempSync(join(tmpdir(), "kbook-flamegraph-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(command: Command, argv: string[]): Promise<number> {
  return command.run!(parseCommandArgs(command, argv));
}

function titles(path: string): string[] {
  return drawnFrames(readFileSync(path, "utf8")).map((f) => f.title).sort();
}

describe("kbook flamegraph", () => {
  it("detects perf script text and folded stacks, giving the same graph", async () => {
    const fromScript = join(dir, "script.svg");
    const fromFolded = join(dir, "folded.svg");
    await run(flamegraphCommand, [capturePath("guest-dd"), "--all", "--colors", "java", "-o", fromScript]);
    await run(flamegraphCommand, [GUEST_DD_FOLDED, "--colors", "java", "-o", fromFolded]);
    expect(titles(fromScript)).toEqual(titles(fromFolded));
    expect(titles(fromScript).length).toBeGreaterThan(100);
  });

  it("--input names the kind; the wrong one fails with the first bad line", async () => {
    await expect(run(flamegraphCommand, [capturePath("guest-dd"), "--input", "folded", "-o", join(dir, "x.svg")])).rejects.toThrow(/Line \d+ is not a folded stack/);
    await expect(run(flamegraphCommand, [capturePath("guest-dd"), "--input", "bogus"])).rejects.toThrow(/Unknown --input/);
  });

  it("passes flamegraph.pl's options through", async () => {
    const out = join(dir, "opts.svg");
    await run(flamegraphCommand, [GUEST_DD_FOLDED, "--title", "dd", "--subtitle", "sub", "--width", "900", "--minwidth", "1%", "--countname", "ns", "--inverted", "-o", out]);
    const svg = readFileSync(out, "utf8");
    expect(svg).toMatch(/<svg [^>]*width="900"/);
    expect(svg).toContain(">dd</text>");
    expect(svg).toContain(">sub</text>");
    expect(svg).toMatch(/<title>all \([\d,]+ ns, 100%\)<\/title>/);
  });

  it("--cp writes a palette file and reuses it", async () => {
    const palette = join(dir, "palette.map");
    writeFileSync(palette, "dd->rgb(1,2,3)\n");
    const out = join(dir, "cp.svg");
    await run(flamegraphCommand, [GUEST_DD_FOLDED, "--cp", "--palette-file", palette, "-o", out]);
    expect(drawnFrames(readFileSync(out, "utf8")).find((f) => f.title.startsWith("dd "))!.fill).toBe("rgb(1,2,3)");
    const map = readFileSync(palette, "utf8");
    expect(map).toMatch(/^\[unknown\]->rgb\(\d+,\d+,\d+\)$/m);
    expect(map).toContain("dd->rgb(1,2,3)\n");
  });

  it.skipIf(!hostHasPerf())(
    "reads a perf.data file by running perf script",
    async () => {
      const data = join(dir, "perf.data");
      execaSync("perf", ["record", "-q", "-g", "-F", "999", "-o", data, "--", "dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=1500"]);
      expect(existsSync(data)).toBe(true);
      const out = join(dir, "data.svg");
      await run(flamegraphCommand, [data, "-o", out]);
      expect(titles(out).some((t) => t.startsWith("dd "))).toBe(true);
    },
    60_000,
  );

  it("rejects empty and binary input", async () => {
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "");
    await expect(run(flamegraphCommand, [empty])).rejects.toThrow(/empty/);
    const binary = join(dir, "binary.bin");
    writeFileSync(binary, Buffer.from([0, 1, 2, 3, 255, 0, 7]));
    const error = await run(flamegraphCommand, [binary]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/binary data/);
  });

  it("renders a pipeline from standard input (collapse | flamegraph)", async () => {
    const result = await execa("npx", ["vite-node", "lib/cli/main.ts", "collapse"], { inputFile: capturePath("host-node-jit") }).pipe(
      "npx",
      ["vite-node", "lib/cli/main.ts", "flamegraph", "--colors", "js"],
      { reject: false },
    );
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^<\?xml/);
    expect(drawnFrames(result.stdout).length).toBeGreaterThan(5);
  }, 180_000);
});

describe("kbook diff-folded", () => {
  it("writes a differential profile that flamegraph draws red and blue", async () => {
    const before = join(dir, "before.folded");
    const after = join(dir, "after.folded");
    writeFileSync(before, "main;a 10\nmain;b 30\n");
    writeFileSync(after, "main;a 30\nmain;b 10\n");
    const diff = join(dir, "diff.folded");
    await run(diffFoldedCommand, [before, after, "-o", diff]);
    expect(readFileSync(diff, "utf8")).toBe("main;a 10 30\nmain;b 30 10\n");
    const out = join(dir, "diff.svg");
    await run(flamegraphCommand, [diff, "-o", out]);
    const frames = drawnFrames(readFileSync(out, "utf8"));
    expect(frames.find((f) => f.title.startsWith("a "))!.fill).toBe("rgb(255,0,0)");
    expect(frames.find((f) => f.title.startsWith("b "))!.fill).toBe("rgb(0,0,255)");
    await expect(run(diffFoldedCommand, [before])).rejects.toThrow(/two folded files/);
  });
});

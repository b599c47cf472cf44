/**
 * The parallel file collapser cuts a file at blank lines, collapses the parts in worker threads
 * and merges them: the result must be exactly the one-piece result — folded bytes, statistics
 * (line numbers of skipped lines included) and warnings — for every option, with several events
 * in one file, garbage lines in later parts, and a cut-off last sample.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { packageRoot } from "../../lib/paths.js";
import { collapsePerfScriptFile, collapsePerfScriptFileParallel, type CollapseOptions, type CollapseResult } from "../../lib/perf/index.js";
import { collapseFileInParallel } from "../../lib/perf/collapse-parallel.js";
import { CAPTURES, COLLAPSE_FLAGS, capturePath } from "./captures.js";

const dir = mkdtempSync(join(tmpdir(), "kbook-parallel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** kbook's captures in one file: several events, kernel and JIT frames, pids and tids. */
const all = join(dir, "all.txt");
writeFileSync(all, Buffer.concat(CAPTURES.map((name) => readFileSync(capturePath(name)))));

function comparable(result: CollapseResult) {
  return { folded: result.folded.toBuffer().toString("latin1"), stats: result.stats, warnings: result.warnings };
}

async function expectSameAsOnePiece(path: string, options: CollapseOptions, threads = 4): Promise<void> {
  const collapser = await collapseFileInParallel(path, options, { threads, minPartBytes: 1000 });
  expect(collapser, "the file was cut into parts").toBeDefined();
  const parallel = await collapsePerfScriptFileParallel(path, options, { threads, minPartBytes: 1000 });
  expect(comparable(parallel)).toEqual(comparable(collapsePerfScriptFile(path, options)));
}

describe("collapsing a file in parallel", () => {
  it.each([...COLLAPSE_FLAGS, "none"])("equals the one-piece collapse (--%s)", async (option) => {
    await expectSameAsOnePiece(all, option === "none" ? {} : { [option]: true });
  });

  it("keeps the first event of the file in every part, or the one asked for", async () => {
    const one = collapsePerfScriptFile(all);
    expect(one.stats.filteredSamples).toBeGreaterThan(0);
    await expectSameAsOnePiece(all, { eventFilter: "page-faults" }, 3);
    await expectSameAsOnePiece(all, { eventFilter: "cpu-clock" }, 2);
  });

  it("numbers skipped lines in later parts as in the whole file, and notices a cut-off last sample", async () => {
    const text = readFileSync(all, "latin1");
    const garbled = join(dir, "garbled.txt");
    const cut = text.lastIndexOf("\n\n", text.length - 3);
    // Garbage well inside the last part, and a last sample without its blank line.
    writeFileSync(garbled, `${text.slice(0, cut + 2)}not perf output\n${text.slice(cut + 2).trimEnd()}\n`, "latin1");
    const one = collapsePerfScriptFile(garbled);
    expect(one.stats.firstUnrecognized?.line).toBeGreaterThan((text.split("\n").length * 3) / 4);
    expect(one.stats.truncatedFinalStack).toBe(true);
    await expectSameAsOnePiece(garbled, {}, 4);
  });

  it("collapses in one piece a file it cannot cut, or a small one", async () => {
    const noBlank = join(dir, "no-blank.txt");
    // One blank line, at the very end: nowhere to cut.
    writeFileSync(noBlank, `${readFileSync(capturePath("guest-dd"), "latin1").replace(/\n\n/g, "\n")}\n`);
    expect(await collapseFileInParallel(noBlank, {}, { threads: 2, minPartBytes: 100 })).toBeUndefined();
    expect(await collapseFileInParallel(all, {})).toBeUndefined();
    expect(comparable(await collapsePerfScriptFileParallel(noBlank))).toEqual(comparable(collapsePerfScriptFile(noBlank)));
  });

  it("runs for a large file from the command line", async () => {
    // 140 MB: two parts of at least 64 MB each.
    const big = join(dir, "big.txt");
    const block = readFileSync(all);
    const copies = Math.ceil((140 << 20) / block.length);
    writeFileSync(big, Buffer.concat(Array.from({ length: copies }, () => block)));
    const cli = join(packageRoot(), "dist", "lib", "cli", "main.js");
    const r = await execa(cli, ["collapse", "--all", big], { encoding: "latin1", stripFinalNewline: false });
    expect(r.stdout).toBe(collapsePerfScriptFile(big, { all: true }).folded.toBuffer().toString("latin1"));
    rmSync(big);
  });
});

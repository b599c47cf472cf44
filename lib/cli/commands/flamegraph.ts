import { closeSync, openSync, readSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../errors/index.js";
import type { Command, ParsedArgs } from "../command.js";
import { stringOption } from "../command.js";
import { collapseOptionSpecs, collapseOptionsFrom, flameGraphOptionSpecs, flameGraphOptionsFrom, savePalette } from "../profile-options.js";
import { inputPath, openOutput, warn } from "../profile-io.js";
import type { CollapseResult } from "../../perf/collapse-input.js";
import type { ProfileInputKind } from "../../perf/input.js";

const KINDS = ["auto", "perf-script", "folded", "perf-data"] as const;
const HEAD_SIZE = 65536;

/** The first bytes of standard input, and an iterator over the rest. */
async function peekStdin(): Promise<{ head: Buffer; chunks: Buffer[]; rest: AsyncIterator<Buffer> }> {
  const rest = (process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < HEAD_SIZE) {
    const next = await rest.next();
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.length;
  }
  return { head: Buffer.concat(chunks), chunks, rest };
}

function readHead(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(HEAD_SIZE);
    return buffer.subarray(0, readSync(fd, buffer, 0, HEAD_SIZE, 0));
  } finally {
    closeSync(fd);
  }
}

async function detectKind(head: Buffer, chosen: string, what: string): Promise<ProfileInputKind> {
  if (chosen !== "auto") return chosen as ProfileInputKind;
  const { isPerfData, checkPerfScriptHead, detectTextKind } = await import("../../perf/input.js");
  if (isPerfData(head)) return "perf-data";
  if (head.length === 0) throw new UsageError(`${what} is empty: there is nothing to draw.`, { hint: "Give perf script output, folded stacks or a perf.data file." });
  checkPerfScriptHead(head, what);
  // Unrecognisable text is read as perf script: its error names the first line that did not parse.
  return detectTextKind(head.toString("utf8")) ?? "perf-script";
}

export const flamegraphCommand: Command = {
  name: "flamegraph",
  summary: "Draw an interactive flame graph (SVG) from perf script output, folded stacks or perf.data",
  usage: "kbook flamegraph [FILE|-] [-o out.svg] [--input KIND] [collapse options] [flame graph options]",
  description:
    "The input kind is detected (perf.data runs 'perf script -i FILE'); name it with --input. Differential input " +
    "(two counts per line, from 'kbook diff-folded') gives a differential graph. Options are flamegraph.pl's.",
  options: {
    output: { type: "string", short: "o", value: "FILE", description: "write the SVG here instead of standard output" },
    input: { type: "string", value: "KIND", description: `input kind: ${KINDS.join(", ")} (default auto)`, default: "auto" },
    ...collapseOptionSpecs,
    ...flameGraphOptionSpecs,
  },
  async run(args: ParsedArgs) {
    if (args.positionals.length > 1) throw new UsageError("kbook flamegraph takes one input file.");
    const chosen = stringOption(args, "input") ?? "auto";
    if (!(KINDS as readonly string[]).includes(chosen)) throw new UsageError(`Unknown --input '${chosen}'.`, { hint: `Use one of: ${KINDS.join(", ")}.` });
    const graphOptions = flameGraphOptionsFrom(args);
    const collapseOptions = collapseOptionsFrom(args);
    const path = inputPath(args.positionals[0], "profile data");
    const what = path === undefined ? "Standard input" : `'${path}'`;
    const perf = await import("../../perf/index.js");
    const { renderFlameGraphDetailed } = await import("../../flamegraph/render.js");

    let folded: string | CollapseResult["folded"];
    let collapsed: CollapseResult | undefined;
    if (path !== undefined) {
      const kind = await detectKind(readHead(path), chosen, what);
      if (kind === "perf-data") collapsed = await perf.collapsePerfData(path, collapseOptions);
      else if (kind === "perf-script") collapsed = await perf.collapsePerfScriptFileParallel(path, collapseOptions);
      folded = collapsed ? collapsed.folded : readFileSync(path, "utf8");
    } else {
      const { head, chunks, rest } = await peekStdin();
      const kind = await detectKind(head, chosen, what);
      const all = (async function* () {
        yield* chunks;
        for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
      })();
      if (kind === "perf-script") collapsed = await perf.collapsePerfScriptStream(all, collapseOptions, what);
      else {
        const parts: Buffer[] = [];
        for await (const chunk of all) parts.push(chunk);
        const bytes = Buffer.concat(parts);
        if (kind === "perf-data") {
          const dir = mkdtempSync(join(tmpdir(), "kbook-flamegraph-"));
          try {
            writeFileSync(join(dir, "perf.data"), bytes);
            collapsed = await perf.collapsePerfData(join(dir, "perf.data"), collapseOptions);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
        folded = collapsed ? collapsed.folded : bytes.toString("utf8");
      }
      folded = collapsed ? collapsed.folded : folded!;
    }
    for (const w of collapsed?.warnings ?? []) warn(w);
    const result = renderFlameGraphDetailed(folded, graphOptions);
    if (result.ignored && result.firstIgnored) {
      warn(`${result.ignored} line(s) were not folded stacks and were skipped; the first is line ${result.firstIgnored.line}: ${JSON.stringify(result.firstIgnored.text)}.`);
    }
    savePalette(graphOptions);
    await openOutput(stringOption(args, "output")).write(result.svg);
    return 0;
  },
};

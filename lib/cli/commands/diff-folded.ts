import { readFileSync } from "node:fs";
import { UsageError } from "../../errors/index.js";
import type { Command } from "../command.js";
import { stringOption } from "../command.js";
import { openOutput, inputPath, warn } from "../profile-io.js";

export const diffFoldedCommand: Command = {
  name: "diff-folded",
  summary: "Diff two folded profiles into a differential one (difffolded.pl)",
  usage: "kbook diff-folded BEFORE AFTER [-n] [-s] [-o OUT]",
  description:
    "Prints 'stack count_before count_after' for every stack of either file (0 where missing). Render it with " +
    "'kbook flamegraph': widths follow AFTER, red means more samples, blue fewer (--negate swaps).",
  options: {
    normalize: { type: "boolean", short: "n", description: "scale BEFORE's counts to AFTER's total" },
    "strip-hex": { type: "boolean", short: "s", description: "replace hex numbers (addresses) with 0x..." },
    output: { type: "string", short: "o", value: "FILE", description: "write here instead of standard output" },
  },
  async run(args) {
    if (args.positionals.length !== 2) {
      throw new UsageError("kbook diff-folded needs two folded files: BEFORE and AFTER.", { hint: "e.g. kbook diff-folded before.folded after.folded | kbook flamegraph -o diff.svg" });
    }
    const { diffFolded } = await import("../../flamegraph/difffolded.js");
    const [a, b] = args.positionals.map((p) => inputPath(p, "folded stacks")!) as [string, string];
    const result = diffFolded(readFileSync(a, "utf8"), readFileSync(b, "utf8"), {
      normalize: args.values.normalize === true,
      stripHex: args.values["strip-hex"] === true,
    });
    if (result.stacks === 0) throw new UsageError(`Neither '${a}' nor '${b}' has folded stacks ("frame;frame COUNT" lines).`);
    if (result.ignored) warn(`${result.ignored} line(s) were not folded stacks and were skipped.`);
    await openOutput(stringOption(args, "output")).write(result.text);
    return 0;
  },
};

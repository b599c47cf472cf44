import { UsageError } from "../../errors/index.js";
import type { Command } from "../command.js";
import { stringOption } from "../command.js";
import { collapseOptionSpecs, collapseOptionsFrom } from "../profile-options.js";
import { inputPath, warn, writeBlocks } from "../profile-io.js";

export const collapseCommand: Command = {
  name: "collapse",
  summary: "Collapse perf script output into folded stacks (stackcollapse-perf.pl's output)",
  usage: "kbook collapse [FILE|-] [--pid --tid --kernel --jit --all --addrs --event-filter EVENT] [-o OUT]",
  description:
    "Reads the text of 'perf script' (a file, or standard input) and prints one 'proc;frame;…;leaf COUNT' line per distinct stack, " +
    "byte for byte what FlameGraph's stackcollapse-perf.pl prints. Memory grows with distinct stacks, not with the input.",
  options: {
    ...collapseOptionSpecs,
    output: { type: "string", short: "o", value: "FILE", description: "write the folded stacks here instead of standard output" },
  },
  async run(args) {
    if (args.positionals.length > 1) throw new UsageError("kbook collapse takes one input file.", { hint: "Concatenate captures first, or run it once per file." });
    const { collapsePerfScriptFileParallel, collapsePerfScriptStream } = await import("../../perf/collapse-input.js");
    const options = collapseOptionsFrom(args);
    const path = inputPath(args.positionals[0], "perf script output");
    const result = path === undefined ? await collapsePerfScriptStream(process.stdin, options, "Standard input") : await collapsePerfScriptFileParallel(path, options);
    for (const w of result.warnings) warn(w);
    await writeBlocks(stringOption(args, "output"), (write) => result.folded.writeTo(write));
    return 0;
  },
};

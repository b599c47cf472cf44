/**
 * Command-line options shared by the commands that collapse perf output (collapse, flamegraph)
 * and that render flame graphs: declared once here, named as in stackcollapse-perf.pl and
 * flamegraph.pl.
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { UsageError } from "../errors/index.js";
import type { OptionSpec, ParsedArgs } from "./command.js";
import { numberOption, stringOption } from "./command.js";
import type { CollapseOptions } from "../perf/collapse.js";
import type { FlameGraphOptions } from "../flamegraph/options.js";
import { formatPaletteFile, parsePaletteFile, PALETTES, type PaletteName } from "../flamegraph/palette.js";

export const collapseOptionSpecs: Record<string, OptionSpec> = {
  pid: { type: "boolean", description: "include the PID with process names (dd-1234)" },
  tid: { type: "boolean", description: "include PID and TID with process names (dd-1234/1235)" },
  kernel: { type: "boolean", description: "annotate kernel frames with _[k]" },
  jit: { type: "boolean", description: "annotate JIT frames with _[j]" },
  all: { type: "boolean", description: "all annotations (--kernel --jit)" },
  addrs: { type: "boolean", description: "show addresses where a symbol is unknown" },
  "event-filter": { type: "string", value: "EVENT", description: "keep samples of this event (default: the first event seen)" },
  "keep-truncated": { type: "boolean", description: "count a final sample cut off without its blank line" },
};

export function collapseOptionsFrom(args: ParsedArgs): CollapseOptions {
  const flag = (name: string) => args.values[name] === true;
  return {
    pid: flag("pid"),
    tid: flag("tid"),
    kernel: flag("kernel"),
    jit: flag("jit"),
    all: flag("all"),
    addrs: flag("addrs"),
    eventFilter: stringOption(args, "event-filter"),
    keepTruncated: flag("keep-truncated"),
  };
}

export const flameGraphOptionSpecs: Record<string, OptionSpec> = {
  title: { type: "string", value: "TEXT", description: "title text (default \"Flame Graph\")" },
  subtitle: { type: "string", value: "TEXT", description: "second title line" },
  width: { type: "string", value: "PX", description: "image width (default 1200)" },
  height: { type: "string", value: "PX", description: "height of each frame (default 16)" },
  minwidth: { type: "string", value: "PX|N%", description: "omit frames narrower than this, in pixels or % of samples (default 0.1)" },
  fonttype: { type: "string", value: "FONT", description: "font family (default Verdana)" },
  fontsize: { type: "string", value: "N", description: "font size (default 12)" },
  fontwidth: { type: "string", value: "N", description: "average character width / font size (default 0.59)" },
  countname: { type: "string", value: "TEXT", description: "what counts are (default \"samples\")" },
  nametype: { type: "string", value: "TEXT", description: "what frames are (default \"Function:\")" },
  colors: { type: "string", value: "PALETTE", description: `palette: ${PALETTES.join(", ")} (default hot)` },
  bgcolors: { type: "string", value: "COLOR", description: "background: yellow, blue, green, grey or #rrggbb" },
  hash: { type: "boolean", description: "colours keyed by a hash of the function name" },
  random: { type: "boolean", description: "random colours" },
  cp: { type: "boolean", description: "consistent palette: reuse and update palette.map" },
  "palette-file": { type: "string", value: "FILE", description: "the --cp palette file (default palette.map)" },
  reverse: { type: "boolean", description: "reverse stacks (merge from the leaves)" },
  inverted: { type: "boolean", description: "icicle graph (roots at the top)" },
  flamechart: { type: "boolean", description: "flame chart: input order, not merged" },
  negate: { type: "boolean", description: "differential: swap red and blue" },
  notes: { type: "string", value: "TEXT", description: "notes put in an SVG comment" },
  total: { type: "string", value: "N", description: "treat N as the total count" },
  factor: { type: "string", value: "N", description: "scale counts by N in the details" },
};

/** Flame graph options from parsed arguments; `--cp` loads the palette file (see savePalette). */
export function flameGraphOptionsFrom(args: ParsedArgs): FlameGraphOptions & { paletteFile?: string } {
  const colors = stringOption(args, "colors");
  if (colors !== undefined && !(PALETTES as readonly string[]).includes(colors)) {
    throw new UsageError(`Unknown palette '${colors}'.`, { hint: `Choose one of: ${PALETTES.join(", ")}.` });
  }
  const options: FlameGraphOptions & { paletteFile?: string } = {
    title: stringOption(args, "title"),
    subtitle: stringOption(args, "subtitle"),
    width: numberOption(args, "width"),
    height: numberOption(args, "height"),
    minwidth: stringOption(args, "minwidth"),
    fonttype: stringOption(args, "fonttype"),
    fontsize: numberOption(args, "fontsize"),
    fontwidth: numberOption(args, "fontwidth"),
    countname: stringOption(args, "countname"),
    nametype: stringOption(args, "nametype"),
    colors: colors as PaletteName | undefined,
    bgcolors: stringOption(args, "bgcolors"),
    hash: args.values.hash === true,
    random: args.values.random === true,
    reverse: args.values.reverse === true,
    inverted: args.values.inverted === true,
    flamechart: args.values.flamechart === true,
    negate: args.values.negate === true,
    notes: stringOption(args, "notes"),
    total: numberOption(args, "total"),
    factor: numberOption(args, "factor"),
  };
  if (args.values.cp === true) {
    const file = stringOption(args, "palette-file") ?? "palette.map";
    options.paletteFile = file;
    options.consistentPalette = existsSync(file) ? parsePaletteFile(readFileSync(file, "utf8")) : new Map();
  }
  return options;
}

/** Writes the consistent palette back (flamegraph.pl --cp does this after drawing). */
export function savePalette(options: FlameGraphOptions & { paletteFile?: string }): void {
  if (!options.paletteFile || !options.consistentPalette) return;
  writeFileSync(options.paletteFile, formatPaletteFile(options.consistentPalette));
}

/**
 * flamegraph.pl's options, with its defaults, as a typed object; validation turns a bad value
 * into a UsageError that names the option.
 */
import { UsageError } from "../errors/index.js";
import { backgroundColors, PALETTES, type PaletteName } from "./palette.js";

export interface FlameGraphOptions {
  /** Heading (default "Flame Graph", "Icicle Graph" when inverted, "Flame Chart" for a chart). */
  title?: string;
  /** Second heading line. */
  subtitle?: string;
  /** Image width in pixels (default 1200). */
  width?: number;
  /** Height of each frame in pixels (default 16). */
  height?: number;
  /**
   * Omit frames narrower than this: pixels (default 0.1), or a percentage of all samples
   * written as "0.5%". Keeps graphs of many distinct stacks small.
   */
  minwidth?: number | string;
  /** Font family (default "Verdana"). */
  fonttype?: string;
  /** Font size (default 12). */
  fontsize?: number;
  /** Average character width relative to the font size, for label truncation (default 0.59). */
  fontwidth?: number;
  /** What the counts are (default "samples"). */
  countname?: string;
  /** What the frames are, shown before hover details (default "Function:"). */
  nametype?: string;
  /** Palette (default "hot"). */
  colors?: PaletteName;
  /** Background: "yellow", "blue", "green", "grey" gradients or a flat "#rrggbb". */
  bgcolors?: string;
  /** Colours keyed by a hash of the frame name (flamegraph.pl --hash). */
  hash?: boolean;
  /** Random colours (flamegraph.pl --random). */
  random?: boolean;
  /**
   * Consistent palette (flamegraph.pl --cp): colours are taken from this map and new frames are
   * added to it, so graphs rendered with the same map share colours.
   */
  consistentPalette?: Map<string, string>;
  /** Reverse stacks (merge from the leaves). */
  reverse?: boolean;
  /** Icicle graph: roots at the top. */
  inverted?: boolean;
  /** Flame chart: input order on the x axis (time), stacks not merged across lines. */
  flamechart?: boolean;
  /** Differential graphs: swap red and blue. */
  negate?: boolean;
  /** Text put in an SVG comment. */
  notes?: string;
  /** Use this as the total count (for percentages and widths) when it exceeds the real one. */
  total?: number;
  /** Scale counts by this factor in the details (default 1). */
  factor?: number;
  /** Fill of frames matching a search (default "rgb(230,0,230)"). */
  searchcolor?: string;
  /** The SVG element id; by default a random one, so that graphs on one page stay apart. */
  id?: string;
  /** Embed the interactive script (default true). */
  interactive?: boolean;
}

export interface ResolvedFlameGraphOptions {
  title: string;
  subtitle: string;
  width: number;
  frameHeight: number;
  minwidth: { value: number; percent: boolean };
  fonttype: string;
  fontsize: number;
  fontwidth: number;
  countname: string;
  nametype: string;
  colors: PaletteName;
  background: [string, string];
  colorMode: "name" | "hash" | "random";
  consistentPalette?: Map<string, string>;
  reverse: boolean;
  inverted: boolean;
  flamechart: boolean;
  negate: boolean;
  notes: string;
  total?: number;
  factor: number;
  searchcolor: string;
  id: string;
  interactive: boolean;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a positive number, got '${value}'.`);
  }
  return value;
}

function parseMinwidth(value: number | string | undefined): { value: number; percent: boolean } {
  if (value === undefined) return { value: 0.1, percent: false };
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d*)?|\.\d+)(%?)$/.exec(text);
  if (!m) {
    throw new UsageError(`--minwidth '${text}' is not a width.`, {
      hint: "Give pixels (e.g. 0.5) or a percentage of all samples (e.g. 0.1%).",
    });
  }
  return { value: Number(m[1]), percent: m[2] === "%" };
}

function randomId(): string {
  return `fg-${Math.random().toString(36).slice(2, 10)}`;
}

export function resolveFlameGraphOptions(options: FlameGraphOptions = {}): ResolvedFlameGraphOptions {
  const colors = options.colors ?? "hot";
  if (!(PALETTES as readonly string[]).includes(colors)) {
    throw new UsageError(`Unknown palette '${colors}'.`, { hint: `Choose one of: ${PALETTES.join(", ")}.` });
  }
  const background = backgroundColors(options.bgcolors, colors);
  if (!background) {
    throw new UsageError(`Unrecognized background '${options.bgcolors}'.`, {
      hint: "Use yellow, blue, green, grey, or a flat colour as #rrggbb.",
    });
  }
  if (options.hash && options.random) throw new UsageError("--hash and --random exclude each other.");
  const id = options.id ?? randomId();
  if (!/^[A-Za-z][\w-]*$/.test(id)) {
    throw new UsageError(`The graph id '${id}' is not a valid element id.`, { hint: "Use letters, digits, '-' and '_', starting with a letter." });
  }
  const searchcolor = options.searchcolor ?? "rgb(230,0,230)";
  if (!/^(#[0-9a-fA-F]{3,8}|rgb\(\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\)|[a-zA-Z]+)$/.test(searchcolor)) {
    throw new UsageError(`--searchcolor '${searchcolor}' is not a colour.`, { hint: "Use #rrggbb, rgb(r,g,b) or a colour name." });
  }
  const flamechart = Boolean(options.flamechart);
  const inverted = Boolean(options.inverted);
  const defaultTitle = flamechart ? "Flame Chart" : inverted ? "Icicle Graph" : "Flame Graph";
  return {
    title: options.title || defaultTitle,
    subtitle: options.subtitle ?? "",
    width: positive("width", options.width, 1200),
    frameHeight: positive("height", options.height, 16),
    minwidth: parseMinwidth(options.minwidth),
    fonttype: options.fonttype ?? "Verdana",
    fontsize: positive("fontsize", options.fontsize, 12),
    fontwidth: positive("fontwidth", options.fontwidth, 0.59),
    countname: options.countname ?? "samples",
    nametype: options.nametype ?? "Function:",
    colors,
    background,
    colorMode: options.hash ? "hash" : options.random ? "random" : "name",
    consistentPalette: options.consistentPalette,
    reverse: Boolean(options.reverse),
    inverted,
    flamechart,
    negate: Boolean(options.negate),
    notes: options.notes ?? "",
    total: options.total === undefined ? undefined : positive("total", options.total, 0),
    factor: positive("factor", options.factor, 1),
    searchcolor,
    id,
    interactive: options.interactive ?? true,
  };
}

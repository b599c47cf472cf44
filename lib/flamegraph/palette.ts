/**
 * Frame colours as flamegraph.pl chooses them: a palette per `--colors`, hues picked by a value
 * in [0, 1) that comes from the frame name (so a function keeps its colour across graphs), from
 * a name hash (`--hash`) or at random (`--random`); differential graphs shade red/blue by delta.
 */

export const PALETTES = [
  "hot", "mem", "io", "wakeup", "chain", "java", "js", "perl",
  "red", "green", "blue", "aqua", "yellow", "purple", "orange",
] as const;
export type PaletteName = (typeof PALETTES)[number];

export type ColorMode = "name" | "hash" | "random";

/**
 * flamegraph.pl's default: Perl's `srand(sum of code points); rand(1)`. Perl (5.20+) has its own
 * drand48 on every platform: state = (seed << 16) + 0x330E, then one step of
 * state = state * 0x5DEECE66D + 0xB (mod 2^48), and the value is state / 2^48.
 */
export function nameSeededRandom(name: string): number {
  let sum = 0;
  for (const ch of name) sum = (sum + ch.codePointAt(0)!) >>> 0;
  const state = ((BigInt(sum) << 16n) + 0x330en) & 0xffffffffffffn;
  const next = (state * 0x5deece66dn + 0xbn) & 0xffffffffffffn;
  return Number(next) / 2 ** 48;
}

/** flamegraph.pl's `--hash` value: the first three characters weighted, after any "module`". */
export function nameHash(name: string): number {
  let vector = 0;
  let weight = 1;
  let max = 1;
  let mod = 10;
  const stripped = name.replace(/.(.*?)`/, "");
  for (const ch of stripped) {
    const i = ch.codePointAt(0)! % mod;
    vector += (i / (mod++ - 1)) * weight;
    max += weight;
    weight *= 0.7;
    if (mod > 12) break;
  }
  return 1 - vector / max;
}

function reverseString(text: string): string {
  return [...text].reverse().join("");
}

/** The palette a multi-palette (java, js, perl, wakeup, chain) picks for one frame name. */
function resolvePalette(type: string, name: string): string {
  switch (type) {
    case "java":
      // Annotations from stackcollapse-perf.pl --all are exact; without them, guess from names.
      if (/_\[j\]$/.test(name)) return "green";
      if (/_\[i\]$/.test(name)) return "aqua";
      if (/^L?(java|javax|jdk|net|org|com|io|sun)\//.test(name)) return "green";
      if (name.includes(":::")) return "green"; // perf-map-agent's Java method separator
      if (name.includes("::")) return "yellow"; // C++
      if (/_\[k\]$/.test(name)) return "orange";
      return "red";
    case "perl":
      if (name.includes("::")) return "yellow";
      if (name.includes("Perl") || name.includes(".pl")) return "green";
      if (/_\[k\]$/.test(name)) return "orange";
      return "red";
    case "js":
      if (/_\[j\]$/.test(name)) return name.includes("/") ? "green" : "aqua";
      if (name.includes("::")) return "yellow";
      if (/\/.*\.js/.test(name)) return "green";
      if (name.includes(":")) return "aqua";
      if (name === " ") return "green"; // missing symbol
      if (name.includes("_[k]")) return "orange";
      return "red";
    case "wakeup":
      return "aqua";
    case "chain":
      return name.includes("_[w]") ? "aqua" : "blue";
    default:
      return type;
  }
}

function rgb(r: number, g: number, b: number): string {
  return `rgb(${r},${g},${b})`;
}

/** The fill of a frame, as flamegraph.pl's color(). */
export function frameColor(palette: string, mode: ColorMode, name: string): string {
  let v1: number;
  let v2: number;
  let v3: number;
  if (mode === "hash") {
    v1 = nameHash(name);
    v2 = v3 = nameHash(reverseString(name));
  } else if (mode === "random") {
    v1 = Math.random();
    v2 = Math.random();
    v3 = Math.random();
  } else {
    v1 = v2 = v3 = nameSeededRandom(name);
  }
  const int = Math.trunc;
  switch (palette) {
    case "hot":
      return rgb(205 + int(50 * v3), int(230 * v1), int(55 * v2));
    case "mem":
      return rgb(0, 190 + int(50 * v2), int(210 * v1));
    case "io": {
      const r = 80 + int(60 * v1);
      return rgb(r, r, 190 + int(55 * v2));
    }
  }
  switch (resolvePalette(palette, name)) {
    case "red": {
      const x = 50 + int(80 * v1);
      return rgb(200 + int(55 * v1), x, x);
    }
    case "green": {
      const x = 50 + int(60 * v1);
      return rgb(x, 200 + int(55 * v1), x);
    }
    case "blue": {
      const x = 80 + int(60 * v1);
      return rgb(x, x, 205 + int(50 * v1));
    }
    case "yellow": {
      const x = 175 + int(55 * v1);
      return rgb(x, x, 50 + int(20 * v1));
    }
    case "purple": {
      const x = 190 + int(65 * v1);
      return rgb(x, 80 + int(60 * v1), x);
    }
    case "aqua":
      return rgb(50 + int(60 * v1), 165 + int(55 * v1), 165 + int(55 * v1));
    case "orange":
      return rgb(190 + int(65 * v1), 90 + int(65 * v1), 0);
  }
  return rgb(0, 0, 0);
}

/** Differential shading: red for more (positive delta), blue for less; white for no change. */
export function deltaColor(delta: number, maxDelta: number, negate: boolean): string {
  const value = negate ? -delta : delta;
  let r = 255;
  let g = 255;
  let b = 255;
  if (value > 0) g = b = Math.trunc((210 * (maxDelta - value)) / maxDelta);
  else if (value < 0) r = g = Math.trunc((210 * (maxDelta + value)) / maxDelta);
  return rgb(r, g, b);
}

/** Background gradient stops for `--bgcolors` (or the palette's default). */
export function backgroundColors(bgcolors: string | undefined, palette: string): [string, string] | undefined {
  let choice = bgcolors ?? "";
  if (choice === "") {
    if (palette === "mem") choice = "green";
    else if (/^(io|wakeup|chain)$/.test(palette)) choice = "blue";
    else if (/^(red|green|blue|aqua|yellow|purple|orange)$/.test(palette)) choice = "grey";
    else choice = "yellow";
  }
  switch (choice) {
    case "yellow":
      return ["#eeeeee", "#eeeeb0"];
    case "blue":
      return ["#eeeeee", "#e0e0ff"];
    case "green":
      return ["#eef2ee", "#e0ffe0"];
    case "grey":
      return ["#f8f8f8", "#e8e8e8"];
  }
  if (/^#[0-9a-fA-F]{6}$/.test(choice)) return [choice, choice];
  return undefined;
}

/** Parses a consistent palette file ("name->rgb(r,g,b)" lines), as written by `--cp`. */
export function parsePaletteFile(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [key, value] = line.split("->");
    if (key !== undefined && value !== undefined) map.set(key, value);
  }
  return map;
}

/** Serialises a consistent palette, keys sorted. */
export function formatPaletteFile(map: Map<string, string>): string {
  return [...map.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => `${k}->${map.get(k)}\n`)
    .join("");
}

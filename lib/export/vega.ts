/**
 * Vega and Vega-Lite outputs: the spec is embedded as JSON and drawn in the page by vega-embed,
 * whose code is inlined (vega 6, vega-lite 6 and vega-embed 7 each ship a minified UMD build, so
 * no bundling step is needed: the three files are concatenated in dependency order). The static
 * SVG from the output's bundle sits in the chart's place and stays there when scripts are off.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { assertInlineableScript } from "../viz/escape.js";

/** MIME types of Vega-Lite and Vega specs, with the embed mode for each. */
const SPEC_TYPES = /^application\/vnd\.(vegalite|vega)\.v(\d+)\+json$/;

export interface VegaSpecOutput {
  mime: string;
  mode: "vega-lite" | "vega";
  spec: Record<string, unknown>;
}

/** The Vega(-Lite) spec of a bundle, newest version first, or undefined. */
export function findVegaSpec(bundle: Record<string, unknown>): VegaSpecOutput | undefined {
  const candidates = Object.keys(bundle)
    .map((mime) => ({ mime, match: SPEC_TYPES.exec(mime) }))
    .filter((c) => c.match && Number(c.match[2]) >= 3)
    .sort((a, b) => (a.match![1] === b.match![1] ? Number(b.match![2]) - Number(a.match![2]) : a.match![1] === "vegalite" ? -1 : 1));
  for (const { mime, match } of candidates) {
    let spec = bundle[mime];
    if (typeof spec === "string") {
      try {
        spec = JSON.parse(spec);
      } catch {
        continue;
      }
    }
    if (typeof spec === "object" && spec !== null && !Array.isArray(spec)) {
      return { mime, mode: match![1] === "vegalite" ? "vega-lite" : "vega", spec: spec as Record<string, unknown> };
    }
  }
  return undefined;
}

/**
 * True when a spec names anything to load (`url` in data, images, lookups). Such a spec is not
 * rendered at export time: vega in Node reads local files for relative URLs, and an exported page
 * must not carry data read from the machine that exported it.
 */
export function specLoadsUrls(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(specLoadsUrls);
  if (typeof value !== "object" || value === null) return false;
  return Object.entries(value).some(([key, v]) => key === "url" || specLoadsUrls(v));
}

/** An SVG for a Vega-Lite spec without one in its bundle (undefined when it cannot be made offline). */
export async function renderFallbackSvg(output: VegaSpecOutput): Promise<string | undefined> {
  if (output.mode !== "vega-lite" || specLoadsUrls(output.spec)) return undefined;
  try {
    const { renderVegaLiteSvg } = await import("../viz/vegalite.js");
    return await renderVegaLiteSvg(output.spec);
  } catch {
    return undefined;
  }
}

let runtime: string | undefined;

/** vega, vega-lite and vega-embed as one inline script (about 830 kB), read once per process. */
export function vegaRuntimeScript(): string {
  if (runtime) return runtime;
  const require = createRequire(import.meta.url);
  // The packages' "exports" hide build/; their entry points live in build/ next to the UMD files.
  const files = [
    join(dirname(require.resolve("vega")), "vega.min.js"),
    join(dirname(require.resolve("vega-lite")), "vega-lite.min.js"),
    join(dirname(require.resolve("vega-embed")), "vega-embed.min.js"),
  ];
  runtime = files
    .map((file) => {
      // A source map comment would make developer tools fetch a file that is not there.
      const source = readFileSync(file, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
      return assertInlineableScript(source, file);
    })
    .join(";\n");
  return runtime;
}

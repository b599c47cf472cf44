/**
 * Vega-Lite charts as notebook outputs: the spec itself (JupyterLab renders it interactively)
 * plus an SVG rendered here with vega's headless View, for front ends without a Vega renderer
 * (classic notebook 6, nbconvert, GitHub) and for HTML files written by the CLI.
 *
 * vega 6 and vega-lite 6 are ESM with top-level await, so they are loaded with `await import()`
 * on first use rather than at module load: importing kbook stays fast and CommonJS-free callers
 * never touch them.
 */
import { JUPYTER_DISPLAY, VEGALITE_MIME, VEGALITE_SCHEMA, type Displayable, type MimeBundle } from "./mime.js";

/** A Vega-Lite spec (kept loose: kbook builds specs, vega-lite validates them). */
export type VegaLiteSpec = Record<string, unknown>;

type VegaModule = typeof import("vega");
type VegaLiteModule = typeof import("vega-lite");

let modules: Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> | undefined;

function loadVega(): Promise<{ vega: VegaModule; vegaLite: VegaLiteModule }> {
  modules ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vegaLite]) => ({ vega, vegaLite }));
  return modules;
}

/** Renders a Vega-Lite spec to standalone SVG text (text in the spec is escaped by vega's SVG writer). */
export async function renderVegaLiteSvg(spec: VegaLiteSpec): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A chart ready to display: the spec, its SVG fallback and a text summary. */
export class VegaLiteChart implements Displayable {
  constructor(
    readonly spec: VegaLiteSpec,
    readonly svg: string,
    readonly text: string,
  ) {}

  bundle(): MimeBundle {
    return { [VEGALITE_MIME]: this.spec, "image/svg+xml": this.svg, "text/plain": this.text };
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    return this.bundle();
  }
}

/**
 * Builds the display for a spec. The bundle has no text/html on purpose: JupyterLab ranks its HTML
 * renderer above the Vega one, and nbconvert prefers HTML too, so an HTML part would hide the
 * interactive chart in the one front end that can show it.
 */
export async function vegaLiteChart(spec: VegaLiteSpec, text: string): Promise<VegaLiteChart> {
  const withSchema = { $schema: VEGALITE_SCHEMA, ...spec };
  return new VegaLiteChart(withSchema, await renderVegaLiteSvg(withSchema), text);
}

/** The MIME bundle for a spec (spec + SVG fallback + text). */
export async function vegaLiteBundle(spec: VegaLiteSpec, text: string): Promise<MimeBundle> {
  return (await vegaLiteChart(spec, text)).bundle();
}

/**
 * Observable Plot charts rendered to SVG text on the server. Plot builds DOM nodes; linkedom
 * supplies a document to build them in, so no browser is needed and the result is plain markup
 * that any front end shows (Plot escapes the text it writes into the DOM, and linkedom serialises
 * it escaped).
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";

export type PlotOptions = Plot.PlotOptions;
export { Plot };

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Renders Plot options to SVG text. A figure (Plot wraps the SVG in one when there is a title or
 * a legend) comes back as HTML; `standalone` asks for a bare SVG with its namespace so it can be
 * an `image/svg+xml` output or a .svg file.
 */
export function renderPlotSvg(options: PlotOptions): string {
  const { document } = parseHTML("<!DOCTYPE html><html><head></head><body></body></html>");
  const node = Plot.plot({ ...options, document: document as unknown as Document }) as unknown as Element;
  const svg = node.tagName.toLowerCase() === "svg" ? node : node.querySelector("svg");
  if (!svg) throw new Error("kbook: Observable Plot produced no <svg> element");
  if (!svg.getAttribute("xmlns")) svg.setAttribute("xmlns", SVG_NS);
  return svg.outerHTML;
}

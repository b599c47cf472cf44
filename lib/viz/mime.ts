/**
 * MIME bundles: what a notebook output is. An object that can show itself has a
 * `[Symbol.for("Jupyter.display")]()` method returning a bundle (the convention Deno's kernel
 * uses); the kernel sends the bundle as `display_data` and the front end picks the richest type it
 * can render.
 */

/** A MIME bundle: MIME type → data (text, or a JSON value for `+json` types). */
export type MimeBundle = Record<string, unknown>;

/** The method name objects implement to display themselves in a notebook. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

export interface Displayable {
  [JUPYTER_DISPLAY](): MimeBundle;
}

/**
 * Vega-Lite specs travel as `application/vnd.vegalite.v5+json`: JupyterLab 4's built-in renderer
 * registers v3, v4 and v5 and nothing newer, so specs are written to the v5 schema (vega-lite 6
 * compiles them unchanged for the server-side SVG).
 */
export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";
export const VEGALITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Wraps a bundle into an object a notebook displays. */
export function displayable(bundle: MimeBundle): Displayable {
  return { [JUPYTER_DISPLAY]: () => bundle };
}

/** True when `value` has a Jupyter display method. */
export function isDisplayable(value: unknown): value is Displayable {
  return typeof value === "object" && value !== null && typeof (value as Displayable)[JUPYTER_DISPLAY] === "function";
}

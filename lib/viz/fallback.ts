/**
 * HTML outputs that read well whether or not the front end trusts them.
 *
 * JupyterLab (and Notebook 7) puts an untrusted `text/html` output through its sanitizer
 * (sanitize-html with an allow-list from Google Caja): `<svg>` and everything drawn in it are not
 * on the list and are removed, but the text inside them is kept, so an inline chart would turn
 * into a run of axis labels and tooltips; `<style>` and `<script>` are removed with their content,
 * `id` becomes `data-jupyter-id`, and the `hidden` attribute is kept, if it has a value
 * (sanitize-html drops empty attributes, so it is written `hidden="hidden"`). So a rich part (inline SVG)
 * is written `hidden`, with a plain stand-in (a table, a text histogram) beside it, and a style
 * sheet that shows the rich part and hides the stand-in. Where the output is trusted (JupyterLab
 * after the cell ran, VS Code, kbook export) the style applies; where it is sanitized the style is
 * gone and the stand-in is what shows. No script is involved, so this holds even where scripts do
 * not run. The rules are scoped to the output's own id: a trusted output's style must not reveal
 * the hidden, sanitized markup of an untrusted output in the same notebook (JupyterLab trusts
 * outputs one by one), and sanitized outputs have no id left to match.
 */
import { randomBytes } from "node:crypto";

/** A new page-unique element id for one display (the same display shown twice shares it). */
export function outputId(prefix = "kbook-out"): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

/** The rich part, hidden unless the output's style applies, then its plain stand-in. */
export function richWithPlainFallback(rich: string, plain: string): string {
  return `<div class="kbook-rich" hidden="hidden">${rich}</div><div class="kbook-plain">${plain}</div>`;
}

/** The style that shows the rich parts of the output with id `id` (a kbook id: no escaping needed). */
export function fallbackStyle(id: string): string {
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`kbook: '${id}' is not an output id`);
  return `<style>#${id} .kbook-rich[hidden]{display:block}#${id} .kbook-plain{display:none}</style>`;
}

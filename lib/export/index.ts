/**
 * `kbook export`: a notebook as one self-contained HTML file that works offline from file://.
 * Markdown is rendered (its raw HTML shown as text), code highlighted, and every output kept:
 * flame graphs inline with their search and zoom, Vega-Lite charts drawn by an inlined
 * vega-embed over their static SVG, tables, text, errors. See trust.ts for which output scripts
 * run, and page.ts for the Content-Security-Policy that backs it.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { basename, dirname, extname, resolve } from "node:path";
import { readNotebook, type Notebook } from "./notebook.js";
import type { ExportOptions, ExportResult } from "./render.js";

export { ansiToHtml, stripAnsi } from "./ansi.js";
export { escapeHtml, escapeJsonForScript } from "../viz/escape.js";
export { cellVisibility, type CellVisibility, type Visibility } from "./visibility.js";
export { checkNotebook, parseNotebook, readNotebook } from "./notebook.js";
export type { Cell as NotebookCell, Notebook, Output as NotebookOutput } from "./notebook.js";
export type { SanitizeOptions } from "./sanitize/index.js";
export type { TrustPolicy } from "./trust.js";
export type { ExportOptions, ExportResult } from "./render.js";

/** Renders a notebook to a complete HTML page. */
export async function exportNotebook(notebook: Notebook, options: ExportOptions = {}): Promise<ExportResult> {
  const { renderNotebook } = await import("./render.js");
  return renderNotebook(notebook, options);
}

/** Exports `input` (.ipynb) to `output` (.html), written atomically; returns what was written. */
export async function exportNotebookFile(
  input: string,
  output: string,
  options: ExportOptions = {},
): Promise<ExportResult & { output: string; bytes: number }> {
  const notebook = await readNotebook(input);
  const result = await exportNotebook(notebook, {
    baseDir: dirname(resolve(input)),
    name: basename(input, extname(input)),
    ...options,
  });
  const target = resolve(output);
  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, result.html);
  await rename(temporary, target);
  return { ...result, output: target, bytes: Buffer.byteLength(result.html) };
}

/**
 * Reading executed notebooks: cells by id, their outputs as text, SVG or chart specs, and the
 * plain-text forms kbook's displays print (bpftrace kstack listings and histograms), so the
 * tests can check what a learner sees rather than how it was produced.
 */
import { readFileSync } from "node:fs";

export interface NotebookCell {
  id?: string;
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export interface NotebookOutput {
  output_type: "stream" | "display_data" | "execute_result" | "error" | "update_display_data";
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown> & {
    kernelspec?: { name?: string; display_name?: string; language?: string };
    language_info?: { name?: string };
  };
  cells: NotebookCell[];
}

const joined = (value: unknown): string => (Array.isArray(value) ? value.join("") : typeof value === "string" ? value : JSON.stringify(value ?? ""));

export function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, "utf8")) as Notebook;
}

export function source(cell: NotebookCell): string {
  return joined(cell.source);
}

export function cellById(notebook: Notebook, id: string): NotebookCell {
  const cell = notebook.cells.find((c) => c.id === id);
  if (!cell) throw new Error(`The notebook has no cell with id '${id}' (ids: ${notebook.cells.map((c) => c.id).join(", ")}).`);
  return cell;
}

/** Everything a cell printed or showed as text: streams, text/plain and text/markdown data. */
export function outputText(cell: NotebookCell): string {
  const parts: string[] = [];
  for (const output of cell.outputs ?? []) {
    if (output.output_type === "stream") parts.push(joined(output.text));
    for (const type of ["text/plain", "text/markdown"]) if (output.data?.[type] !== undefined) parts.push(joined(output.data[type]));
  }
  return parts.join("\n");
}

/** The data of every output of one MIME type, e.g. all SVGs a cell showed. */
export function outputData(cell: NotebookCell, mime: string): string[] {
  return (cell.outputs ?? []).filter((o) => o.data?.[mime] !== undefined).map((o) => joined(o.data![mime]));
}

export function errorOutputs(notebook: Notebook): { cell: string; error: string }[] {
  const errors: { cell: string; error: string }[] = [];
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "error") errors.push({ cell: cell.id ?? "?", error: `${output.ename}: ${output.evalue}` });
    }
  }
  return errors;
}

/** Frame names of a flame graph SVG, from its <title> tooltips ("name (N samples, P%)"). */
export function flameGraphFrames(svg: string): string[] {
  return [...svg.matchAll(/<title>([^<]*?) \([\d,.]+ [^<]*?\)<\/title>/g)].map((m) => m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
}

/** The rows of a kstack count listing as kbook prints it: "#1  98 (9.5%)" then one frame a line. */
export function stackRows(text: string): { count: number; frames: string[] }[] {
  const rows: { count: number; frames: string[] }[] = [];
  let current: { count: number; frames: string[] } | undefined;
  for (const line of text.split("\n")) {
    const head = /^#\d+\s+(\d+) \(/.exec(line);
    if (head) {
      current = { count: Number(head[1]), frames: [] };
      rows.push(current);
    } else if (current && /^ {4}\S/.test(line)) {
      current.frames.push(line.trim());
    } else {
      current = undefined;
    }
  }
  return rows;
}

/** "@: 254 distinct stacks, 1032 total" → 1032. */
export function stackTotal(text: string): number | undefined {
  const m = /distinct stacks, (\d+) total/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The count of one bucket (e.g. "[4K, 8K)") in the first histogram of a text listing. */
export function histogramCount(text: string, bucket: string): number {
  const escaped = bucket.replace(/[[\]().*+?^$|\\]/g, "\\$&");
  const m = new RegExp(`^${escaped}\\s+(\\d+) \\|`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

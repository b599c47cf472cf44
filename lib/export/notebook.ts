/**
 * The parts of nbformat 4 the exporter reads, and a reader that turns a notebook file into them.
 * nbformat stores text either as one string or as a list of lines (each keeping its "\n");
 * `joinText` undoes that so the rest of the exporter only sees strings.
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "../errors/index.js";

export type MultilineText = string | string[];
export type MimeBundle = Record<string, unknown>;

export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr" | string;
  text: MultilineText;
}
export interface DataOutput {
  output_type: "display_data" | "execute_result";
  data: MimeBundle;
  metadata?: Record<string, unknown>;
  execution_count?: number | null;
}
export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DataOutput | ErrorOutput;

export interface CellMetadata {
  tags?: string[];
  jupyter?: { source_hidden?: boolean; outputs_hidden?: boolean };
  /** nbformat 4's older spelling of "outputs hidden". */
  collapsed?: boolean;
  [key: string]: unknown;
}

export interface Cell {
  cell_type: "markdown" | "code" | "raw";
  id?: string;
  source: MultilineText;
  metadata: CellMetadata;
  outputs?: Output[];
  execution_count?: number | null;
  attachments?: Record<string, MimeBundle>;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: {
    title?: string;
    kernelspec?: { name?: string; display_name?: string; language?: string };
    language_info?: { name?: string; file_extension?: string };
    [key: string]: unknown;
  };
  cells: Cell[];
}

/** A string for nbformat's "string or list of lines". */
export function joinText(text: unknown): string {
  if (typeof text === "string") return text;
  if (Array.isArray(text)) return text.map((line) => (typeof line === "string" ? line : String(line))).join("");
  return text === undefined || text === null ? "" : String(text);
}

/** Reads and checks a notebook file; throws UsageError naming what is wrong with it. */
export async function readNotebook(path: string): Promise<Notebook> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read the notebook '${path}'${code ? ` (${code})` : ""}.`, {
      hint: "Check the path; kbook export takes an .ipynb file.",
      cause: error,
    });
  }
  return parseNotebook(text, path);
}

/** Parses notebook JSON; `where` names the file in error messages. */
export function parseNotebook(text: string, where = "notebook"): Notebook {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`'${where}' is not a notebook: it is not valid JSON (${(error as Error).message}).`, {
      hint: "kbook export takes a Jupyter .ipynb file.",
      cause: error,
    });
  }
  return checkNotebook(json, where);
}

/** Checks the shape the exporter relies on; fills in optional fields with their defaults. */
export function checkNotebook(json: unknown, where = "notebook"): Notebook {
  if (!isObject(json) || !Array.isArray(json.cells)) {
    throw new UsageError(`'${where}' is not a Jupyter notebook: it has no "cells" list.`, {
      hint: "kbook export takes a Jupyter .ipynb file (nbformat 4).",
    });
  }
  if (json.nbformat !== 4) {
    throw new UsageError(`'${where}' is nbformat ${String(json.nbformat)}; kbook export reads nbformat 4.`, {
      hint: "Upgrade it with: jupyter nbconvert --to notebook --nbformat 4 FILE.ipynb",
    });
  }
  const cells = json.cells.map((cell, index): Cell => {
    if (!isObject(cell) || !["markdown", "code", "raw"].includes(cell.cell_type as string)) {
      throw new UsageError(`'${where}': cell ${index + 1} has no valid cell_type (markdown, code or raw).`);
    }
    const outputs = Array.isArray(cell.outputs) ? cell.outputs.filter(isObject).map((o) => o as unknown as Output) : [];
    return {
      ...(cell as unknown as Cell),
      metadata: isObject(cell.metadata) ? (cell.metadata as CellMetadata) : {},
      outputs,
    };
  });
  return {
    nbformat: 4,
    nbformat_minor: typeof json.nbformat_minor === "number" ? json.nbformat_minor : 0,
    metadata: isObject(json.metadata) ? (json.metadata as Notebook["metadata"]) : {},
    cells,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

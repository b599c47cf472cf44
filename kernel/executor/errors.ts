/**
 * The `error` output of a failed cell: ename, evalue and a traceback (ANSI-colored lines, which
 * every Jupyter front end renders). A type error names the cell line and column; a runtime error
 * shows its stack with frames mapped back to the cells' TypeScript lines and the kernel's own
 * frames cut off; a KbookError (a mistake the user can fix) shows its message and hint, no stack.
 */
import { isKbookError } from "../../lib/errors/index.js";
import type { CellDiagnostic } from "../typescript/cell-compiler.js";
import type { CellSourceMap } from "../typescript/source-map.js";

export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

const RED = "\x1b[31m";
const BOLD_RED = "\x1b[1;31m";
const CYAN = "\x1b[36m";
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

/** A cell the runtime evaluated: its label for people and the map back to its source. */
export interface EvaluatedCell {
  label: string;
  code: string;
  map: CellSourceMap;
}

export function typeErrorContent(diagnostics: readonly CellDiagnostic[], code: string): ErrorContent {
  const first = diagnostics[0]!;
  const lines = code.split("\n");
  const traceback: string[] = [];
  for (const d of diagnostics) {
    traceback.push(`${BOLD_RED}TypeScript error${d.code ? ` TS${d.code}` : ""}${RESET} at line ${d.line}, column ${d.column}: ${d.message}`);
    traceback.push(...codeFrame(lines, d.line, d.column));
  }
  return {
    ename: "TypeScriptError",
    evalue: `line ${first.line}, column ${first.column}: ${first.message}${diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : ""}`,
    traceback,
  };
}

export function interruptedContent(): ErrorContent {
  return { ename: "Interrupted", evalue: "The cell was interrupted.", traceback: [`${BOLD_RED}Interrupted${RESET}: the cell was interrupted.`] };
}

/** Error content for anything a cell threw; `cells` maps script names (kbook-cell-N) to cells. */
export function thrownErrorContent(thrown: unknown, cells: ReadonlyMap<string, EvaluatedCell>): ErrorContent {
  if (isKbookError(thrown)) {
    return { ename: thrown.name, evalue: thrown.message, traceback: thrown.describe().split("\n").map((line, i) => (i === 0 ? `${BOLD_RED}${thrown.name}${RESET}: ${line}` : line)) };
  }
  if (!(thrown instanceof Error)) {
    const text = typeof thrown === "string" ? thrown : safeString(thrown);
    return { ename: "Uncaught", evalue: text, traceback: [`${BOLD_RED}Uncaught${RESET} ${text}`] };
  }
  const name = thrown.name || "Error";
  const traceback = [`${BOLD_RED}${name}${RESET}: ${thrown.message}`];
  let framed = false;
  for (const line of (thrown.stack ?? "").split("\n").slice(1)) {
    if (!/^\s+at /.test(line)) continue;
    // Frames below the cell are the kernel evaluating it: not the user's business.
    if (/node:inspector|\/dist\/kernel\/|\/kernel\/executor\//.test(line)) break;
    const mapped = mapFrame(line, cells);
    traceback.push(mapped.text);
    if (mapped.cell && !framed) {
      traceback.push(...codeFrame(mapped.cell.code.split("\n"), mapped.line, mapped.column));
      framed = true;
    }
  }
  if (thrown.cause !== undefined) traceback.push(`${DIM}caused by: ${thrown.cause instanceof Error ? `${thrown.cause.name}: ${thrown.cause.message}` : safeString(thrown.cause)}${RESET}`);
  return { ename: name, evalue: thrown.message, traceback };
}

function mapFrame(line: string, cells: ReadonlyMap<string, EvaluatedCell>): { text: string; cell?: EvaluatedCell; line: number; column: number } {
  const m = /(kbook-cell-\d+):(\d+):(\d+)/.exec(line);
  const cell = m ? cells.get(m[1]!) : undefined;
  if (!m || !cell) return { text: `${DIM}${line}${RESET}`, line: 0, column: 0 };
  const position = cell.map.original(Number(m[2]), Number(m[3]));
  if (!position) return { text: line.replace(m[0], `cell ${cell.label}`), line: 0, column: 0 };
  return {
    text: line.replace(m[0], `${CYAN}cell ${cell.label}, line ${position.line}:${position.column}${RESET}`),
    cell,
    line: position.line,
    column: position.column,
  };
}

/** The offending line with its neighbours and a caret under the column. */
function codeFrame(lines: readonly string[], line: number, column: number): string[] {
  if (line < 1 || line > lines.length) return [];
  const out: string[] = [];
  const width = String(Math.min(lines.length, line + 1)).length;
  for (let n = Math.max(1, line - 1); n <= Math.min(lines.length, line + 1); n++) {
    const marker = n === line ? `${RED}>${RESET}` : " ";
    out.push(`${marker} ${String(n).padStart(width)} | ${lines[n - 1]}`);
    if (n === line) out.push(`  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, column - 1))}${RED}^${RESET}`);
  }
  return out;
}

function safeString(value: unknown): string {
  try {
    return typeof value === "object" ? JSON.stringify(value) ?? String(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

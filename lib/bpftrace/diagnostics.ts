/**
 * Reading bpftrace's complaints. bpftrace 0.17 reports problems on stderr as
 *
 *   stdin:1:16-16: ERROR: syntax error, unexpected end of file, expecting }
 *   BEGIN { @x = 1
 *                  ~~~
 *
 * (file:line:column-endcolumn, then the source line and a marker line; "file:3-5:" for messages
 * that span lines; a bare "ERROR: …" when there is no position). This module parses those lines
 * and draws the position against the program the user wrote.
 */
import type { BpftraceDiagnostic } from "./errors.js";

const LOCATED = /^(?:[^:\n]*:)?(\d+)(?::(\d+)-(\d+)|-(\d+))?: (ERROR|WARNING|HINT): (.*)$/;
const BARE = /^(ERROR|WARNING|HINT|FATAL): (.*)$/;
const WHAT = /^\s*what\(\):\s+(.*)$/;

export interface ParsedStderr {
  diagnostics: BpftraceDiagnostic[];
  /** Lines that are not diagnostics (libbpf/bcc chatter, child output). */
  other: string[];
}

/**
 * Splits bpftrace's stderr into positioned diagnostics and other lines. With the program, the
 * echoed source line after a diagnostic is recognised exactly; without it, any non-diagnostic line.
 */
export function parseDiagnostics(stderr: string, program?: string): ParsedStderr {
  const lines = stderr.split("\n");
  const programLines = program?.split("\n");
  const diagnostics: BpftraceDiagnostic[] = [];
  const other: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    const located = LOCATED.exec(line);
    if (located) {
      const d: BpftraceDiagnostic = { level: located[5] as BpftraceDiagnostic["level"], message: located[6]!, line: Number(located[1]) };
      if (located[2] !== undefined) {
        d.column = Number(located[2]);
        d.endColumn = Number(located[3]);
        // The source line and the ~~~ marker follow a single-line diagnostic.
        const next = lines[i + 1];
        // bpftrace echoes the line with each tab expanded to four spaces.
        const source = programLines?.[d.line! - 1];
        const echoed = programLines
          ? source !== undefined && next !== undefined && source.replace(/\t/g, "    ").trimEnd() === next.trimEnd()
          : next !== undefined && !LOCATED.test(next) && !BARE.test(next);
        if (echoed) i++;
        if (i + 1 < lines.length && /^[\s~^]*$/.test(lines[i + 1]!) && lines[i + 1] !== "") i++;
      } else if (located[4] !== undefined) {
        d.endLine = Number(located[4]);
      }
      diagnostics.push(d);
      continue;
    }
    const bare = BARE.exec(line);
    if (bare) {
      diagnostics.push({ level: bare[1] as BpftraceDiagnostic["level"], message: bare[2]! });
      continue;
    }
    const what = WHAT.exec(line);
    if (what) {
      diagnostics.push({ level: "FATAL", message: what[1]! });
      continue;
    }
    if (line.trim() && !line.startsWith("terminate called")) other.push(line);
  }
  return { diagnostics, other };
}

/**
 * The program lines a diagnostic points at, numbered, with a caret under the column and "~" over
 * the rest of the marked range:
 *
 *     1 | BEGIN { @x = 1
 *       |                ^
 */
export function renderDiagnostic(program: string, d: BpftraceDiagnostic): string {
  const header = `${d.level.toLowerCase()}: ${d.message}${d.line ? ` (line ${d.line}${d.column ? `, column ${d.column}` : ""})` : ""}`;
  if (!d.line) return header;
  const lines = program.split("\n");
  const last = d.endLine ?? d.line;
  const width = String(last).length;
  const out = [header];
  for (let n = d.line; n <= last && n <= lines.length; n++) {
    const text = lines[n - 1]!;
    out.push(`${String(n).padStart(width)} | ${text}`);
    if (n === d.line && d.column) {
      // Keep tabs in the prefix so the caret lines up with the character in any terminal.
      const prefix = text.slice(0, d.column - 1).replace(/[^\t]/g, " ");
      const span = Math.max(1, (d.endColumn ?? d.column) - d.column);
      out.push(`${" ".repeat(width)} | ${prefix}^${"~".repeat(span - 1)}`);
    }
  }
  if (d.line > lines.length) out.push(`(the program has ${lines.length} line${lines.length === 1 ? "" : "s"})`);
  return out.join("\n");
}

/** The program text a diagnostic marks (e.g. the attach point "kfunc:vfs_raed"). */
export function markedText(program: string, d: BpftraceDiagnostic): string | undefined {
  if (!d.line || !d.column) return undefined;
  const text = program.split("\n")[d.line - 1];
  if (text === undefined) return undefined;
  const marked = text.slice(d.column - 1, Math.max(d.column, d.endColumn ?? d.column) - 1).trim();
  return marked || undefined;
}

let rowA = new Int32Array(64);
let rowB = new Int32Array(64);

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  // Common prefixes cost nothing ("kprobe:" on every candidate).
  let start = 0;
  while (start < a.length && start < b.length && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  const n = b.length - start;
  if (rowA.length <= n) {
    rowA = new Int32Array(n + 1);
    rowB = new Int32Array(n + 1);
  }
  let prev = rowA;
  let curr = rowB;
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = start; i < a.length; i++) {
    curr[0] = i - start + 1;
    let rowMin = curr[0];
    const ca = a.charCodeAt(i);
    for (let j = 1; j <= n; j++) {
      const cost = ca === b.charCodeAt(start + j - 1) ? 0 : 1;
      const v = Math.min(prev[j]! + 1, curr[j - 1]! + 1, prev[j - 1]! + cost);
      curr[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    const t = prev;
    prev = curr;
    curr = t;
  }
  return prev[n]!;
}

/**
 * The names closest to `target` by edit distance (ties: shorter first), at most `count`, and
 * only those near enough to be a plausible typo — or that contain the target or are contained in it.
 */
export function closestNames(target: string, candidates: readonly string[], count = 5): string[] {
  const limit = Math.max(3, Math.floor(target.length / 3));
  const scored: { name: string; score: number }[] = [];
  for (const name of candidates) {
    if (name === target) continue;
    let score = editDistance(target, name, limit);
    if (score > limit && (name.includes(target) || target.includes(name.slice(name.indexOf(":") + 1)))) score = limit;
    if (score <= limit) scored.push({ name, score });
  }
  scored.sort((a, b) => a.score - b.score || a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
  return scored.slice(0, count).map((s) => s.name);
}

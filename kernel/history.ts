/**
 * The kernel's input history (history_request): what the front ends' up-arrow and `%history`
 * read. Kept in memory for the kernel's life; entries are [session, line, input] or, with
 * output, [session, line, [input, output]], line being the execution count, as IPython answers.
 */

/** This kernel's session number in history replies (one session per kernel process). */
export const HISTORY_SESSION = 1;

interface Entry {
  line: number;
  input: string;
  output: string | null;
}

export type HistoryItem = [number, number, string | [string, string | null]];

export interface HistoryRequest {
  hist_access_type?: string;
  output?: boolean;
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}

export class History {
  private readonly entries: Entry[] = [];

  add(line: number, input: string, output: string | null): void {
    this.entries.push({ line, input, output });
  }

  query(request: HistoryRequest): HistoryItem[] {
    const show = (e: Entry): HistoryItem => [HISTORY_SESSION, e.line, request.output ? [e.input, e.output] : e.input];
    switch (request.hist_access_type) {
      case "tail":
        return lastN(this.entries, request.n).map(show);
      case "range": {
        // Session 0 (or a negative offset of 0) is the current session; earlier sessions are not kept.
        const session = request.session ?? 0;
        if (session !== 0 && session !== HISTORY_SESSION) return [];
        const start = request.start ?? 1;
        const stop = request.stop ?? Infinity;
        return this.entries.filter((e) => e.line >= start && e.line < stop).map(show);
      }
      case "search": {
        const pattern = globToRegExp(request.pattern ?? "*");
        let found = this.entries.filter((e) => pattern.test(e.input));
        if (request.unique) {
          const latest = new Map<string, Entry>();
          for (const e of found) latest.set(e.input, e);
          found = found.filter((e) => latest.get(e.input) === e);
        }
        return lastN(found, request.n).map(show);
      }
      default:
        return [];
    }
  }
}

function lastN<T>(items: T[], n: number | undefined): T[] {
  return n === undefined || n <= 0 ? items : items.slice(-n);
}

/** IPython's history search uses SQLite GLOB: `*` and `?` wildcards over the whole input. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const c of glob) source += c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${source}$`);
}

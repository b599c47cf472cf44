/**
 * Listing probes (`bpftrace -l PATTERN`), the article's `bpftrace -l | fzf` step: a list that
 * filters in Python-free JavaScript inside the notebook output, and `filter()` for code.
 */
import type { Guest } from "../guest/index.js";
import { TABLE_CSS } from "../viz/html.js";
import { JUPYTER_DISPLAY, type Displayable, type MimeBundle } from "../viz/mime.js";
import { renderSearchableList } from "../viz/searchable.js";
import { explainFailure } from "./failure.js";

export class ProbeList implements Displayable {
  constructor(
    /** The pattern listed (undefined: every probe). */
    readonly pattern: string | undefined,
    readonly names: readonly string[],
  ) {}

  get length(): number {
    return this.names.length;
  }

  /** Names matching a regular expression or containing a substring (case-insensitive). */
  filter(query: string | RegExp): ProbeList {
    const test = typeof query === "string" ? (s: string) => s.toLowerCase().includes(query.toLowerCase()) : (s: string) => query.test(s);
    return new ProbeList(this.pattern, this.names.filter(test));
  }

  includes(name: string): boolean {
    return this.names.includes(name);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.names[Symbol.iterator]();
  }

  text(limit = 50): string {
    const head = this.names.slice(0, limit).join("\n");
    const more = this.names.length > limit ? `\n… ${this.names.length - limit} more (${this.names.length} in all)` : "";
    return `${head}${more}`;
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    const title = `${this.names.length} probe${this.names.length === 1 ? "" : "s"}${this.pattern ? ` matching ${this.pattern}` : ""}`;
    return { "text/html": `<style>${TABLE_CSS}</style>${renderSearchableList(this.names, { title })}`, "text/plain": this.text() };
  }

  toJSON(): { pattern?: string; names: readonly string[] } {
    return { pattern: this.pattern, names: this.names };
  }
}

/** Lists probes in the guest matching a bpftrace pattern ("kprobe:tcp_*", "tracepoint:sched:*"). */
export async function listProbes(guest: Guest, pattern?: string, options: { signal?: AbortSignal; bpftrace?: string } = {}): Promise<ProbeList> {
  const argv = [options.bpftrace ?? "bpftrace", "-l", ...(pattern ? [pattern] : [])];
  const result = await guest.exec(argv, { reject: false, signal: options.signal, timeoutMs: 300_000 });
  const names = result.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("WARNING:"));
  if (result.exitCode !== 0 && !names.length) {
    throw await explainFailure(guest, { program: pattern ?? "", stderr: result.stderr, exitCode: result.exitCode, signal: result.signal });
  }
  return new ProbeList(pattern, names);
}

/**
 * Source lines for a stop: gdb knows the file and line from DWARF; the text comes from the file
 * on this machine (a `kbook linux` build's tree), so a stop can show where it is like `list`.
 */
import { readFile } from "node:fs/promises";

export interface SourceExcerpt {
  /** The file as gdb names it (relative to the build, or absolute). */
  file: string;
  /** The absolute path that was read. */
  fullname: string;
  /** The line the stop is at. */
  line: number;
  lines: { number: number; text: string }[];
}

/** The `context` lines either side of `line`, or undefined when the file cannot be read here. */
export async function readSourceExcerpt(fullname: string, file: string, line: number, context = 5): Promise<SourceExcerpt | undefined> {
  // Read afresh each time: the learner may have just edited the file (a few kB, well under 1 ms).
  const lines = await readFile(fullname, "utf8").then((text) => text.split("\n"), () => undefined);
  if (!lines || line < 1 || line > lines.length) return undefined;
  const from = Math.max(1, line - context);
  const to = Math.min(lines.length, line + context);
  const excerpt: SourceExcerpt["lines"] = [];
  for (let n = from; n <= to; n++) excerpt.push({ number: n, text: lines[n - 1]!.replace(/\t/g, "        ") });
  return { file, fullname, line, lines: excerpt };
}

/**
 * A fast, order-keeping reader for bpftrace's map lines. JSON.parse would do, but it loses two
 * facts bpftrace's output has: the order of a map's keys (JavaScript objects put integer-like
 * keys first) and repeated keys (two stack ids can print the same text — an empty kernel stack
 * from a user-mode sample, say — and bpftrace writes both). So map lines in bpftrace's exact
 * layout, `{"type": "map", "data": {"@name": {...}}}`, are split into key/value pairs here; any
 * line this reader does not recognise goes to JSON.parse, which also words the errors.
 */

export type MapLineType = "map" | "hist" | "stats";

/**
 * A key and its value; a third element `true` marks a key still in its JSON form whose only
 * escapes are "\n" (stack keys), left for keys.ts to split without unescaping first.
 */
export type ScannedPair = [key: string, value: unknown, newlineEscaped?: true];

export type ScannedBody = { kind: "pairs"; pairs: ScannedPair[] } | { kind: "value"; value: unknown };

export interface ScannedMapLine {
  type: MapLineType;
  name: string;
  body: ScannedBody;
}

const PREFIX = /^\{"type": "(map|hist|stats)", "data": \{/;
// The common case, a key whose only escapes are newlines (a stack) with an integer value
// (count(), sum()…), matched in one regex step.
const COUNT_PAIR = /"([^"\\\u0000-\u001f]*(?:\\n[^"\\\u0000-\u001f]*)*)": (-?\d+)(?=[,}])/y;
const INTEGER = /^-?\d+$/;
// bpftrace escapes control characters; raw ones mean the line is not bpftrace's JSON.
const CONTROL = /[\u0000-\u001f]/;

class NotRecognised extends Error {}
const notRecognised = new NotRecognised();

/** Reads a map/hist/stats line in bpftrace's layout, or returns undefined (use JSON.parse). */
export function scanMapLine(line: string): ScannedMapLine | undefined {
  const prefix = PREFIX.exec(line);
  if (!prefix) return undefined;
  try {
    let pos = prefix[0].length;
    const nameEnd = stringEnd(line, pos);
    const name = readString(line, pos, nameEnd);
    pos = expect(line, skipSpace(line, nameEnd + 1), ":");
    pos = skipSpace(line, pos);
    let body: ScannedBody;
    if (line[pos] === "{") {
      const pairs: ScannedPair[] = [];
      pos = skipSpace(line, pos + 1);
      if (line[pos] === "}") pos++;
      else {
        for (;;) {
          COUNT_PAIR.lastIndex = pos;
          const count = COUNT_PAIR.exec(line);
          if (count) {
            pairs.push([count[1]!, Number(count[2]), true]);
            pos = COUNT_PAIR.lastIndex;
          } else {
            const keyEnd = stringEnd(line, pos);
            const key = readString(line, pos, keyEnd);
            pos = skipSpace(line, expect(line, skipSpace(line, keyEnd + 1), ":"));
            const valueEnd = valueEndAt(line, pos);
            pairs.push([key, readValue(line.slice(pos, valueEnd))]);
            pos = valueEnd;
          }
          pos = skipSpace(line, pos);
          if (line[pos] === ",") {
            pos = skipSpace(line, pos + 1);
            continue;
          }
          pos = expect(line, pos, "}");
          break;
        }
      }
      body = { kind: "pairs", pairs };
    } else {
      const valueEnd = valueEndAt(line, pos);
      body = { kind: "value", value: readValue(line.slice(pos, valueEnd)) };
      pos = valueEnd;
    }
    pos = expect(line, skipSpace(line, pos), "}");
    pos = expect(line, skipSpace(line, pos), "}");
    if (skipSpace(line, pos) !== line.length) return undefined;
    return { type: prefix[1] as MapLineType, name, body };
  } catch (error) {
    if (error === notRecognised || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function skipSpace(text: string, pos: number): number {
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    pos++;
  }
  return pos;
}

function expect(text: string, pos: number, char: string): number {
  if (text[pos] !== char) throw notRecognised;
  return pos + 1;
}

/** Index of the quote closing the string that opens at `pos`. */
function stringEnd(text: string, pos: number): number {
  if (text[pos] !== '"') throw notRecognised;
  let from = pos + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) throw notRecognised;
    let backslashes = 0;
    for (let k = quote - 1; k > pos && text.charCodeAt(k) === 92; k--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

function readString(text: string, start: number, end: number): string {
  return unescapeKey(text.slice(start + 1, end));
}

/** The text of a JSON string's inside; stack keys escape only newlines, which is quick to undo. */
function unescapeKey(inner: string): string {
  if (CONTROL.test(inner)) throw notRecognised;
  return inner.indexOf("\\") < 0 ? inner : (JSON.parse(`"${inner}"`) as string);
}

/** Index just past the JSON value that starts at `pos`. */
function valueEndAt(text: string, pos: number): number {
  const c = text[pos];
  if (c === '"') return stringEnd(text, pos) + 1;
  if (c === "[" || c === "{") {
    let depth = 0;
    let i = pos;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') {
        i = stringEnd(text, i) + 1;
        continue;
      }
      if (ch === "[" || ch === "{") depth++;
      else if (ch === "]" || ch === "}") {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw notRecognised;
  }
  let i = pos;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "," || ch === "}" || ch === "]" || ch === " ") break;
    i++;
  }
  if (i === pos) throw notRecognised;
  return i;
}

function readValue(text: string): unknown {
  return INTEGER.test(text) ? Number(text) : JSON.parse(text);
}

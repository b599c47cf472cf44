/**
 * Map keys and stack frames as bpftrace prints them. A key is one string; a stack argument in it
 * starts with a newline and holds one indented line per frame, leaf first:
 *
 *   JSON  "\n    task_tick_fair+1\n    scheduler_tick+176\n"          (@[kstack])
 *         "c,\n    f+1\n"  and  "\n    f+1\n,comm"                  (@[comm, kstack], @[kstack, comm])
 *   text  "@[\n    f+1\n]: 3", "@kt[c, \n    f+1\n]: 1", "@tk[\n    f+1\n, comm]: 1"
 *
 * In perf stack mode a frame line is "\t<hex address> symbol+offset". Arguments other than stacks
 * are kept together as printed: bpftrace joins them with "," and does not quote strings, so a
 * comma inside a string cannot be told from a separator.
 */
import type { MapKey, MapKeyPart } from "./types.js";

const NEWLINE = 10;

/** Splits a printed key into stack and non-stack parts. */
export function parseMapKey(text: string): MapKey {
  if (text.indexOf("\n") < 0) return { text, parts: [{ kind: "value", text }] };
  const single = singleStack(text);
  return { text, parts: single ? [{ kind: "stack", frames: single }] : splitKeyParts(text) };
}

/**
 * A key as it appears inside JSON, where its only escapes are "\n" (bpftrace's stack keys). Its
 * text and parts are worked out on first use: a long capture holds tens of thousands of stacks
 * and a million frame strings, and most uses (the top stacks, one map of several) need few of them.
 * The frames are then split from the escaped form directly, saving a pass over the key.
 */
export function parseNewlineEscapedKey(escaped: string): MapKey {
  if (escaped.indexOf("\\") < 0) return parseMapKey(escaped);
  let text: string | undefined;
  let parts: MapKeyPart[] | undefined;
  return {
    get text(): string {
      return (text ??= escaped.replaceAll("\\n", "\n"));
    },
    get parts(): MapKeyPart[] {
      if (!parts) {
        const single = escaped.startsWith("\\n") && escaped.endsWith("\\n") ? singleStack(escaped, "\\n") : undefined;
        parts = single ? [{ kind: "stack", frames: single }] : splitKeyParts(this.text);
      }
      return parts;
    },
  };
}

/** Fast path for the usual @[kstack] key: one stack and nothing else. */
function singleStack(text: string, newline = "\n"): string[] | undefined {
  if (newline === "\n" && (text.charCodeAt(0) !== NEWLINE || text.charCodeAt(text.length - 1) !== NEWLINE)) return undefined;
  const lines = text.split(newline);
  const frames: string[] = [];
  for (let i = 1; i < lines.length - 1; i++) {
    const line = lines[i]!;
    const first = line.charCodeAt(0);
    // Every frame line is indented; anything else means other key arguments follow.
    if (first !== 32 && first !== 9) return undefined;
    const frame = first === 32 && line.charCodeAt(line.length - 1) !== 32 ? line.trimStart() : parseFrameLine(line);
    if (frame !== "") frames.push(frame);
  }
  return frames;
}

function splitKeyParts(text: string): MapKeyPart[] {
  const parts: MapKeyPart[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (text.charCodeAt(i) === NEWLINE) {
      const frames: string[] = [];
      let j = i + 1;
      while (j < n && (text[j] === " " || text[j] === "\t")) {
        let end = text.indexOf("\n", j);
        if (end < 0) end = n;
        const frame = parseFrameLine(text.slice(j, end));
        if (frame) frames.push(frame);
        j = end + 1;
      }
      parts.push({ kind: "stack", frames });
      i = j;
      if (i >= n) break;
      if (text[i] === ",") {
        i += text[i + 1] === " " ? 2 : 1;
        if (i >= n) parts.push({ kind: "value", text: "" });
        continue;
      }
    }
    // A value runs until a newline that follows a separator (the start of a stack argument).
    let stop = n;
    let next = n;
    let from = i;
    for (;;) {
      const nl = text.indexOf("\n", from);
      if (nl < 0) break;
      if (text[nl - 1] === ",") {
        stop = nl - 1;
        next = nl;
        break;
      }
      if (text[nl - 1] === " " && text[nl - 2] === ",") {
        stop = nl - 2;
        next = nl;
        break;
      }
      from = nl + 1;
    }
    parts.push({ kind: "value", text: text.slice(i, Math.max(i, stop)) });
    i = Math.max(next, i + 1);
  }
  return parts;
}

/** One frame line without its indentation (and without the address, in perf mode). */
export function parseFrameLine(line: string): string {
  const perfMode = line.startsWith("\t");
  const trimmed = line.trim();
  if (perfMode) {
    const space = trimmed.indexOf(" ");
    if (space > 0 && /^[0-9a-f]+$/i.test(trimmed.slice(0, space))) return trimmed.slice(space + 1);
  }
  return trimmed;
}

/**
 * The function name of a frame: "task_tick_fair+187" → "task_tick_fair", "syscall+25 (libc.so.6)"
 * → "syscall". Unresolved addresses ("0x7ffe…") stay as they are.
 */
export function frameFunction(frame: string): string {
  let text = frame;
  if (text.endsWith(")")) {
    const open = text.lastIndexOf(" (");
    if (open > 0) text = text.slice(0, open);
  }
  const plus = text.lastIndexOf("+");
  if (plus > 0 && /^(?:0x[0-9a-fA-F]+|\d+)$/.test(text.slice(plus + 1))) return text.slice(0, plus);
  return text;
}

/** The stack argument of a key (the first one), or undefined. */
export function keyStack(key: MapKey | null): string[] | undefined {
  if (!key) return undefined;
  for (const part of key.parts) if (part.kind === "stack") return part.frames;
  return undefined;
}

/** The non-stack arguments of a key, as printed, without empty ones. */
export function keyContext(key: MapKey | null): string[] {
  if (!key) return [];
  const out: string[] = [];
  for (const part of key.parts) if (part.kind === "value" && part.text !== "") out.push(part.text);
  return out;
}

/** Whether a key holds a stack argument. */
export function hasStack(key: MapKey | null): boolean {
  return !!key && key.parts.some((p) => p.kind === "stack");
}

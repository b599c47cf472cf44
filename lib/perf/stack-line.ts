/**
 * One call-chain line of `perf script` output ("    ffffffff81a4e8cb native_safe_halt+0xb
 * ([kernel.kallsyms])") turned into the frame names stackcollapse-perf.pl would print for it.
 *
 * The text works on latin1 strings (one char per input byte), which gives Perl's byte
 * semantics: `\s` is ASCII whitespace only, `\w` is [A-Za-z0-9_], and sorting compares bytes.
 * That is why the character classes below are spelled out instead of using JS `\s`, which would
 * also match U+00A0 (byte 0xA0 in latin1).
 */

export interface FrameAnnotations {
  /** Append `_[k]` to kernel frames (module `[...]` or `...vmlinux`). */
  kernel: boolean;
  /** Append `_[j]` to JIT frames (module `/tmp/perf-PID.map`). */
  jit: boolean;
  /** Name unknown symbols `[module <pc>]` instead of `[module]`. */
  addrs: boolean;
}

/** stackcollapse-perf.pl's `^\s*(\w+)\s*(.+) \((.*)\)`, with Perl's `\s` and `\w` on bytes. */
const STACK_LINE = /^[\t\n\v\f\r ]*(\w+)[\t\n\v\f\r ]*(.+) \((.*)\)/s;
const GO_METHOD = /\.\(.*\)\./s;
const ARGUMENT_LIST = /\((?!anonymous namespace\)).*/s;
const KERNEL_MODULE = /(^\[|vmlinux$)/;
const JIT_MAP = /\/tmp\/perf-\d+\.map/;

/** Result of parsing a call-chain line: null when the line is not a stack line at all. */
export type ParsedStackLine = { pc: string; rawfunc: string; mod: string } | null;

export function parseStackLine(key: string): ParsedStackLine {
  const m = STACK_LINE.exec(key);
  if (!m) return null;
  return { pc: m[1]!, rawfunc: m[2]!, mod: m[3]! };
}

/** Perl's `split /->/, $s`: leading empty fields stay, trailing empty fields go. */
function splitInlined(rawfunc: string): string[] {
  const parts = rawfunc.split("->");
  while (parts.length && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** `rawfunc` without a trailing symbol offset (Perl: `s/\+0x[\da-f]+$//`). */
function stripOffset(rawfunc: string): string {
  const plus = rawfunc.lastIndexOf("+0x");
  if (plus < 0 || plus + 3 === rawfunc.length) return rawfunc;
  for (let i = plus + 3; i < rawfunc.length; i++) {
    const c = rawfunc.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return rawfunc;
  }
  return rawfunc.slice(0, plus);
}

/** Names of "[unknown]" symbols by module (and java-ness), which is all they depend on without --addrs. */
export type UnknownNames = Map<string, string>;

/** Characters that send a symbol down the general path: inlining, separators, arguments, quotes, "[unknown]". */
const NEEDS_WORK = /->|[;("'[]/;

/**
 * The frame names for one stack line, innermost inlined function last, joined with ";" — or ""
 * when the line contributes no frame (a "(process name)" pseudo-frame, or an empty symbol).
 * `java` is true when the sample's process name is exactly "java" (Java signatures are tidied;
 * with --pid the name is "java-PID" and they are not, as in stackcollapse-perf.pl).
 */
export function frameNames(line: NonNullable<ParsedStackLine>, java: boolean, annotate: FrameAnnotations, cache?: UnknownNames): string {
  // Linux 4.8+ prints symbol offsets (native_safe_halt+0xb); the same function at different
  // offsets is one frame.
  const func = stripOffset(line.rawfunc);
  if (func === "" || func.charCodeAt(0) === 40 /* ( */) return "";
  if (cache && func === "[unknown]" && !annotate.addrs) {
    // JIT code without a perf map gives a distinct line per pc, all named after the module.
    const known = cache.get(java ? `j${line.mod}` : `-${line.mod}`);
    if (known !== undefined) return known;
    const names = tidiedFrameNames(func, line, java, annotate);
    cache.set(java ? `j${line.mod}` : `-${line.mod}`, names);
    return names;
  }
  // Most symbols are plain names: nothing to split, replace or tidy.
  if (NEEDS_WORK.test(func) || (java && func.includes("/"))) return tidiedFrameNames(func, line, java, annotate);
  return func + annotation(func, line.mod, annotate);
}

/** The "_[k]" or "_[j]" suffix for the outermost name of a line, or "". */
function annotation(func: string, mod: string, annotate: FrameAnnotations): string {
  if (annotate.kernel && KERNEL_MODULE.test(mod) && !mod.includes("unknown")) return "_[k]";
  if (annotate.jit && JIT_MAP.test(mod) && !func.includes("_[j]")) return "_[j]";
  return "";
}

/** frameNames() for symbols with inlined frames, separators, argument lists, quotes or "[unknown]". */
function tidiedFrameNames(rawfunc: string, line: NonNullable<ParsedStackLine>, java: boolean, annotate: FrameAnnotations): string {
  const { pc, mod } = line;
  if (rawfunc.startsWith("(")) return "";
  const names: string[] = [];
  for (let func of splitInlined(rawfunc)) {
    if (func === "[unknown]") {
      // Better a module name than nothing: "[libc-2.31.so]".
      func = mod !== "[unknown]" ? mod.replace(/^.*\//s, "") : "unknown";
      func = annotate.addrs ? `[${func} <${pc}>]` : `[${func}]`;
    }
    // ";" separates frames in the folded format; argument lists are noise except in Go method
    // names like "net/http.(*Client).Do"; quotes come from JIT map entries.
    func = func.replaceAll(";", ":");
    if (!GO_METHOD.test(func)) func = func.replace(ARGUMENT_LIST, "");
    func = func.replace(/["']/g, "");
    if (java && func.includes("/")) func = func.replace(/^L/, "");
    if (names.length > 0) {
      if (!func.includes("_[i]")) func += "_[i]";
    } else {
      func += annotation(func, mod, annotate);
    }
    names.push(func);
  }
  return names.join(";");
}

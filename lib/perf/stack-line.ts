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

/**
 * `^\s*(\w+)\s*(.+) \((.*)\)` applied to the line from its first non-blank character: leading
 * blanks cannot change the match (the pc must start at the first non-blank), so the cache key
 * can leave them out.
 */
const STACK_LINE = /^(\w+)[\t\n\v\f\r ]*(.+) \((.*)\)/s;
const SYMBOL_OFFSET = /\+0x[\da-f]+$/;
const GO_METHOD = /\.\(.*\)\./s;
const ARGUMENT_LIST = /\((?!anonymous namespace\)).*/s;
const KERNEL_MODULE = /(^\[|vmlinux$)/;
const JIT_MAP = /\/tmp\/perf-\d+\.map/;

/** Result of parsing a stack line key: null when the line is not a stack line at all. */
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

/**
 * The frame names for one stack line, innermost inlined function last, joined with ";" — or ""
 * when the line contributes no frame (a "(process name)" pseudo-frame, or an empty symbol).
 * `java` is true when the sample's process name is exactly "java" (Java signatures are tidied;
 * with --pid the name is "java-PID" and they are not, as in stackcollapse-perf.pl).
 */
export function frameNames(line: NonNullable<ParsedStackLine>, java: boolean, annotate: FrameAnnotations): string {
  const { pc, mod } = line;
  // Linux 4.8+ prints symbol offsets (native_safe_halt+0xb); the same function at different
  // offsets is one frame.
  const rawfunc = line.rawfunc.replace(SYMBOL_OFFSET, "");
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
    } else if (annotate.kernel && KERNEL_MODULE.test(mod) && !mod.includes("unknown")) {
      func += "_[k]";
    } else if (annotate.jit && JIT_MAP.test(mod)) {
      if (!func.includes("_[j]")) func += "_[j]";
    }
    names.push(func);
  }
  return names.join(";");
}

/**
 * Completion inside cell magics: the magic's name after `%%`, its options on the magic line, and
 * in the body what the magic's language has — bpftrace's probe types, builtins and functions in
 * `%%bpftrace`; gdb commands in `%%gdb`, asked of the VM's gdb session itself when there is one
 * (its `complete` knows the kernel's symbols: `break do_sys_op` → `break do_sys_openat2`).
 */
import { BPFTRACE_BUILTINS, BPFTRACE_FUNCTIONS, BPFTRACE_PROBE_TYPES } from "../../lib/bpftrace/language.js";
import { GDB_COMMANDS } from "../../lib/gdb/commands.js";
import type { KernelVm } from "./current-vm.js";
import { existingGdbSession } from "./gdb.js";
import { COMMON_OPTIONS, parseMagicCell, type MagicRegistry } from "./registry.js";

/** Matches replace code[start, end) (UTF-16 offsets). */
export interface MagicCompletion {
  matches: string[];
  start: number;
  end: number;
}

/** How long a gdb session may take to complete before the static list answers instead. */
const GDB_COMPLETE_TIMEOUT_MS = 1000;

export async function completeMagicCell(code: string, cursor: number, registry: MagicRegistry, vm: KernelVm | undefined): Promise<MagicCompletion | undefined> {
  const lead = /^\s*\n/.exec(code)?.[0].length ?? 0;
  if (!code.startsWith("%%", lead)) return undefined;
  const lineEnd = code.indexOf("\n", lead);
  const firstLineEnd = lineEnd < 0 ? code.length : lineEnd;
  if (cursor < lead) return undefined;

  if (cursor <= firstLineEnd) {
    const before = code.slice(lead, cursor);
    const name = /^%%([\w-]*)$/.exec(before);
    if (name) return { matches: registry.names().filter((n) => n.startsWith(name[1]!)).map((n) => `%%${n}`), start: lead, end: cursor };
    const option = /(?:^|\s)(-{1,2}[\w-]*)$/.exec(before);
    const magic = registry.find(/^%%([\w-]+)/.exec(before)?.[1] ?? "");
    if (!option || !magic) return undefined;
    const names = Object.keys({ ...COMMON_OPTIONS, ...magic.options }).map((n) => `--${n}`);
    return { matches: names.filter((n) => n.startsWith(option[1]!)), start: cursor - option[1]!.length, end: cursor };
  }

  const magic = registry.find(parseMagicCell(code)?.name ?? "");
  const lineStart = code.lastIndexOf("\n", cursor - 1) + 1;
  const line = code.slice(lineStart, cursor);
  if (magic?.name === "bpftrace") return completeBpftrace(line, cursor);
  if (magic?.name === "gdb") return completeGdb(line, lineStart, cursor, vm);
  return undefined;
}

function completeBpftrace(line: string, cursor: number): MagicCompletion | undefined {
  const word = /[A-Za-z_$@][\w]*$/.exec(line)?.[0] ?? "";
  const before = line.slice(0, line.length - word.length);
  // After "kprobe:" comes a kernel function: nothing static to offer.
  if (/[:\w]$/.test(before)) return undefined;
  const inProbeList = !/[{}]/.test(before) && /^\s*(?:[^{]*,\s*)?$/.test(before);
  const vocabulary = inProbeList ? BPFTRACE_PROBE_TYPES : [...BPFTRACE_BUILTINS, ...BPFTRACE_FUNCTIONS];
  return { matches: vocabulary.filter((w) => w.startsWith(word)), start: cursor - word.length, end: cursor };
}

async function completeGdb(line: string, lineStart: number, cursor: number, vm: KernelVm | undefined): Promise<MagicCompletion> {
  const indent = /^\s*/.exec(line)![0].length;
  const typed = line.slice(indent);
  const start = lineStart + indent;
  const session = vm ? existingGdbSession(vm) : undefined;
  if (session && typed) {
    const asked = await withTimeout(session.then((s) => s.command(`complete ${typed}`)), GDB_COMPLETE_TIMEOUT_MS).catch(() => undefined);
    const matches = asked
      ?.split("\n")
      .map((l) => l.trimEnd())
      .filter((l) => l.startsWith(typed) && !l.startsWith("*** List may be truncated"));
    if (matches?.length) return { matches: [...new Set(matches)], start, end: cursor };
  }
  return { matches: GDB_COMMANDS.filter((c) => c.startsWith(typed)), start, end: cursor };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * What gdb reports when the target stops, as typed values: frames from MI tuples, and a stop
 * record that shows itself in a notebook (function, arguments, backtrace), escaped for HTML.
 */
import type { MiTuple, MiValue } from "./mi.js";
import type { SourceExcerpt } from "./source.js";
import { escapeHtml } from "../viz/escape.js";
import { JUPYTER_DISPLAY } from "../viz/mime.js";

export interface GdbArgument {
  name: string;
  /** gdb's printed value (DWARF-typed when symbols have debug info). */
  value: string;
  type?: string;
}

export interface GdbFrame {
  level: number;
  address: bigint;
  /** Function name, or undefined where gdb printed "??". */
  function?: string;
  file?: string;
  /** The file's absolute path as gdb resolved it (with DWARF and the source at hand). */
  fullname?: string;
  line?: number;
  /** Shared object or module the address belongs to, when gdb knows it. */
  from?: string;
  /** Arguments gdb could read (only with DWARF). */
  args: GdbArgument[];
}

/**
 * x86-64 SysV calling convention: the first six integer arguments arrive in these registers.
 * Without DWARF this is the only way to see arguments, and it holds at a function's entry only.
 */
export const ARGUMENT_REGISTERS = ["rdi", "rsi", "rdx", "rcx", "r8", "r9"] as const;

export interface GdbRegisterArgument {
  register: (typeof ARGUMENT_REGISTERS)[number];
  value: bigint;
}

export interface GdbStop {
  /**
   * gdb's reason: "breakpoint-hit", "function-finished", "end-stepping-range",
   * "signal-received", "exited-normally", "exited", … and "stopped" where gdb gives none: on
   * connecting to a target, and after `finish` in a function without debug info.
   */
  reason: string;
  breakpoint?: number;
  signal?: string;
  threadId?: string;
  function?: string;
  address?: bigint;
  /** Source position, with DWARF. */
  file?: string;
  fullname?: string;
  line?: number;
  /** The source lines around the stop, when the file is on this machine. */
  source?: SourceExcerpt;
  /** Arguments by name, from DWARF. */
  args: GdbArgument[];
  /**
   * Without DWARF arguments, the SysV argument registers at the stop (meaningful at a
   * function's entry, e.g. a breakpoint on `do_sys_openat2`: filename is rsi).
   */
  registerArgs?: GdbRegisterArgument[];
  /** `finish`: the value the function returned. */
  returnValue?: string;
  exitCode?: number;
  backtrace: GdbFrame[];
  /** The `*stopped` record as gdb sent it. */
  raw: MiTuple;
}

function str(value: MiValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function tuple(value: MiValue | undefined): MiTuple | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
}

/** Parses gdb's address text ("0x00005555…"); undefined for anything else. */
export function parseAddress(text: string | undefined): bigint | undefined {
  if (!text) return undefined;
  const m = /^(0x[0-9a-fA-F]+|\d+)/.exec(text.trim());
  return m ? BigInt(m[1]!) : undefined;
}

export function formatAddress(address: bigint): string {
  return `0x${address.toString(16)}`;
}

export function parseArguments(value: MiValue | undefined): GdbArgument[] {
  if (!Array.isArray(value)) return [];
  const args: GdbArgument[] = [];
  for (const item of value) {
    const t = tuple(item);
    const name = str(t?.name);
    if (!t || name === undefined) continue;
    args.push({ name, value: str(t.value) ?? "…", ...(str(t.type) ? { type: str(t.type) } : {}) });
  }
  return args;
}

/** A frame tuple from `*stopped` or `-stack-list-frames`. */
export function parseFrame(value: MiValue | undefined, level = 0): GdbFrame | undefined {
  const t = tuple(value);
  if (!t) return undefined;
  const fn = str(t.func);
  const line = str(t.line);
  return {
    level: str(t.level) !== undefined ? Number(str(t.level)) : level,
    address: parseAddress(str(t.addr)) ?? 0n,
    ...(fn && fn !== "??" ? { function: fn } : {}),
    ...(str(t.file) ? { file: str(t.file) } : {}),
    ...(str(t.fullname) ? { fullname: str(t.fullname) } : {}),
    ...(line && /^\d+$/.test(line) ? { line: Number(line) } : {}),
    ...(str(t.from) ? { from: str(t.from) } : {}),
    args: parseArguments(t.args),
  };
}

/** The frames of a `-stack-list-frames` answer. */
export function parseStack(value: MiValue | undefined): GdbFrame[] {
  if (!Array.isArray(value)) return [];
  return value.map((f, i) => parseFrame(f, i)).filter((f): f is GdbFrame => f !== undefined);
}

/** The parts of a stop that come from the `*stopped` record itself. */
export function parseStopRecord(results: MiTuple): Omit<GdbStop, "backtrace" | "registerArgs"> {
  const frame = parseFrame(results.frame);
  const bkptno = str(results.bkptno);
  const exitCode = str(results["exit-code"]);
  return {
    reason: str(results.reason) ?? "stopped",
    ...(bkptno && /^\d+$/.test(bkptno) ? { breakpoint: Number(bkptno) } : {}),
    ...(str(results["signal-name"]) ? { signal: str(results["signal-name"]) } : {}),
    ...(str(results["thread-id"]) ? { threadId: str(results["thread-id"]) } : {}),
    ...(frame?.function ? { function: frame.function } : {}),
    ...(frame ? { address: frame.address } : {}),
    ...(frame?.file ? { file: frame.file } : {}),
    ...(frame?.fullname ? { fullname: frame.fullname } : {}),
    ...(frame?.line !== undefined ? { line: frame.line } : {}),
    args: frame?.args ?? [],
    ...(str(results["return-value"]) !== undefined ? { returnValue: str(results["return-value"]) } : {}),
    ...(exitCode !== undefined ? { exitCode: parseInt(exitCode, 8) } : results.reason === "exited-normally" ? { exitCode: 0 } : {}),
    raw: results,
  };
}

/** True for stops after which there is no process left to inspect. */
export function isExitStop(reason: string): boolean {
  return reason === "exited" || reason === "exited-normally" || reason === "exited-signalled";
}

function frameLine(frame: GdbFrame): string {
  const where = frame.file ? ` at ${frame.file}${frame.line ? `:${frame.line}` : ""}` : frame.from ? ` from ${frame.from}` : "";
  const args = frame.args.length ? `(${frame.args.map((a) => `${a.name}=${a.value}`).join(", ")})` : "";
  return `#${frame.level}  ${formatAddress(frame.address)} in ${frame.function ?? "??"}${args}${where}`;
}

function argumentLines(stop: GdbStop): string[] {
  if (stop.args.length) return stop.args.map((a) => `${a.name} = ${a.value}`);
  return (stop.registerArgs ?? []).map((a) => `$${a.register} = ${formatAddress(a.value)}`);
}

/** One-paragraph summary of a stop, as gdb's CLI would print it. */
export function describeStop(stop: GdbStop): string {
  const lines: string[] = [];
  const head = stop.breakpoint !== undefined ? `breakpoint ${stop.breakpoint}` : stop.signal ? `signal ${stop.signal}` : stop.reason;
  if (isExitStop(stop.reason)) return `process exited (${stop.reason}${stop.exitCode !== undefined ? `, code ${stop.exitCode}` : ""})`;
  const source = stop.file ? ` (${stop.file}${stop.line !== undefined ? `:${stop.line}` : ""})` : "";
  lines.push(`stopped (${head}) in ${stop.function ?? "??"} at ${stop.address !== undefined ? formatAddress(stop.address) : "?"}${source}`);
  if (stop.returnValue !== undefined) lines.push(`returned ${stop.returnValue}`);
  if (stop.source) {
    for (const l of stop.source.lines) lines.push(`${l.number === stop.source.line ? "=>" : "  "} ${String(l.number).padStart(5)}  ${l.text}`);
  }
  const args = argumentLines(stop);
  if (args.length) {
    lines.push(stop.args.length ? "arguments:" : "argument registers (x86-64 SysV, valid at function entry):");
    for (const a of args) lines.push(`  ${a}`);
  }
  if (stop.backtrace.length) {
    lines.push("backtrace:");
    for (const f of stop.backtrace) lines.push(`  ${frameLine(f)}`);
  }
  return lines.join("\n");
}

/** The notebook display of a stop: plain text and an HTML table, every string escaped. */
export function renderStopDisplay(stop: GdbStop): { "text/plain": string; "text/html": string } {
  const args = stop.args.length
    ? stop.args.map((a) => [a.name, a.value])
    : (stop.registerArgs ?? []).map((a) => [`$${a.register}`, formatAddress(a.value)]);
  const head = isExitStop(stop.reason)
    ? escapeHtml(describeStop(stop))
    : `stopped in <b>${escapeHtml(stop.function ?? "??")}</b> at <code>${escapeHtml(stop.address !== undefined ? formatAddress(stop.address) : "?")}</code> (${escapeHtml(stop.breakpoint !== undefined ? `breakpoint ${stop.breakpoint}` : stop.reason)})`;
  const parts = [`<div class="kbook-gdb-stop"><div>${head}</div>`];
  if (stop.returnValue !== undefined) parts.push(`<div>returned <code>${escapeHtml(stop.returnValue)}</code></div>`);
  if (stop.source) {
    const { file, line, lines } = stop.source;
    parts.push(`<div class="kbook-gdb-source"><div><code>${escapeHtml(file)}:${line}</code></div><pre>`);
    for (const l of lines) {
      const text = `${String(l.number).padStart(5)}  ${escapeHtml(l.text)}`;
      parts.push(l.number === line ? `<mark class="kbook-gdb-current">${text}</mark>\n` : `${text}\n`);
    }
    parts.push("</pre></div>");
  }
  if (args.length) {
    const caption = stop.args.length ? "arguments" : "argument registers (x86-64 SysV, valid at function entry)";
    parts.push(`<table><caption>${escapeHtml(caption)}</caption>`);
    for (const [name, value] of args) parts.push(`<tr><td><code>${escapeHtml(name!)}</code></td><td><code>${escapeHtml(value!)}</code></td></tr>`);
    parts.push("</table>");
  }
  if (stop.backtrace.length) {
    parts.push("<ol start=\"0\" class=\"kbook-gdb-backtrace\">");
    for (const f of stop.backtrace) parts.push(`<li><code>${escapeHtml(frameLine(f).replace(/^#\d+\s+/, ""))}</code></li>`);
    parts.push("</ol>");
  }
  parts.push("</div>");
  return { "text/plain": describeStop(stop), "text/html": parts.join("") };
}

/** Adds the notebook display method to a stop (non-enumerable, so the record stays plain data). */
export function withStopDisplay(stop: GdbStop): GdbStop {
  Object.defineProperty(stop, JUPYTER_DISPLAY, {
    value: () => renderStopDisplay(stop),
    enumerable: false,
  });
  return stop;
}

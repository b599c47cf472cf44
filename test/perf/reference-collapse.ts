/**
 * A deliberately plain reference for the collapser: one regular expression per rule, applied
 * line by line to the whole input, with Perl's byte semantics spelled out (\s is ASCII
 * whitespace only, "." matches anything but "\n"). The fast collapser (caches, hashing, hand
 * scanners, chunked input, the frame-name fast paths) must agree with it on any input; the
 * property tests check that.
 */

const S = "[\\t\\n\\v\\f\\r ]";
const NS = "[^\\t\\n\\v\\f\\r ]";
export const RECORD_RE = new RegExp(`^(${NS}[^\\n]+?)${S}+(\\d+)\\/*(\\d+)*${S}+`);
export const EVENT_RE = new RegExp(`:${S}*(\\d+)*${S}+(${NS}+):${S}*$`);
const STACK_RE = new RegExp(`^${S}*(\\w+)${S}*([^\\n]+) \\(([^\\n]*)\\)`);

export function referenceCollapse(
  input: string,
  options: { pid?: boolean; tid?: boolean; kernel?: boolean; jit?: boolean; addrs?: boolean; eventFilter?: string } = {},
): string {
  const annotate = { kernel: Boolean(options.kernel), jit: Boolean(options.jit), addrs: Boolean(options.addrs) };
  const counts = new Map<string, number>();
  let filter = options.eventFilter ?? "";
  let stack: string[] = [];
  let pname: string | undefined;
  let period = 1;
  const lines = input.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    if (line === "") {
      if (pname === undefined) continue;
      const key = [pname, ...stack].join(";");
      counts.set(key, (counts.get(key) ?? 0) + period);
      stack = [];
      pname = undefined;
      continue;
    }
    const record = RECORD_RE.exec(line);
    if (record) {
      const comm = record[1]!;
      let pid = record[2]!;
      let tid = record[3];
      if (!tid || tid === "0") {
        tid = pid;
        pid = "?";
      }
      let periodText = "";
      const event = EVENT_RE.exec(line);
      if (event) {
        periodText = event[1] ?? "";
        if (filter === "") filter = event[2]!;
        else if (event[2] !== filter) continue;
      }
      period = periodText === "" || periodText === "0" ? 1 : Number(periodText);
      const name = options.tid ? `${comm}-${pid}/${tid}` : options.pid ? `${comm}-${pid}` : comm;
      pname = name.replaceAll(" ", "_");
      continue;
    }
    const frame = STACK_RE.exec(line);
    if (!frame || pname === undefined) continue;
    const names = referenceFrameNames(frame[1]!, frame[2]!, frame[3]!, pname === "java", annotate);
    if (names !== "") stack.unshift(names);
  }
  const keys = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => `${k} ${counts.get(k)}\n`).join("");
}

/** stackcollapse-perf.pl's naming of one call-chain line, rule by rule. */
function referenceFrameNames(pc: string, rawfunc: string, mod: string, java: boolean, annotate: { kernel: boolean; jit: boolean; addrs: boolean }): string {
  rawfunc = rawfunc.replace(/\+0x[\da-f]+$/, "");
  if (rawfunc.startsWith("(")) return "";
  const parts = rawfunc.split("->");
  while (parts.length && parts[parts.length - 1] === "") parts.pop();
  const names: string[] = [];
  for (let func of parts) {
    if (func === "[unknown]") {
      func = mod !== "[unknown]" ? mod.replace(/^[^]*\//, "") : "unknown";
      func = annotate.addrs ? `[${func} <${pc}>]` : `[${func}]`;
    }
    func = func.replace(/;/g, ":");
    if (!/\.\([^]*\)\./.test(func)) func = func.replace(/\((?!anonymous namespace\))[^]*/, "");
    func = func.replace(/["']/g, "");
    if (java && func.includes("/")) func = func.replace(/^L/, "");
    if (names.length > 0) {
      if (!func.includes("_[i]")) func += "_[i]";
    } else if (annotate.kernel && /(^\[|vmlinux$)/.test(mod) && !mod.includes("unknown")) {
      func += "_[k]";
    } else if (annotate.jit && /\/tmp\/perf-\d+\.map/.test(mod)) {
      if (!func.includes("_[j]")) func += "_[j]";
    }
    names.push(func);
  }
  return names.join(";");
}

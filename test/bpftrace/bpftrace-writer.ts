/**
 * Writes maps the way bpftrace 0.17's output.cpp does (JsonOutput and TextOutput), for
 * round-trip properties: generate typed maps, print them as bpftrace would, parse them back.
 */
import type { BpftraceMap, HistogramBucket, MapKey, StatsValue } from "../../lib/bpftrace/index.js";

/** A key as bpftrace's JSON prints it: arguments joined by ",", stacks as "\n    frame\n…". */
export function jsonKeyText(parts: MapKey["parts"]): string {
  return parts.map((p) => (p.kind === "stack" ? `\n${p.frames.map((f) => `    ${f}\n`).join("")}` : p.text)).join(",");
}

/** The same key as the text output prints it between @name[ and ]:, arguments joined by ", ". */
export function textKeyText(parts: MapKey["parts"]): string {
  return parts.map((p) => (p.kind === "stack" ? `\n${p.frames.map((f) => `    ${f}\n`).join("")}` : p.text)).join(", ");
}

function jsonBuckets(buckets: HistogramBucket[]): string {
  return `[${buckets
    .map((b) => {
      const fields: string[] = [];
      if (b.min !== undefined) fields.push(`"min": ${b.min}`);
      if (b.max !== undefined) fields.push(`"max": ${b.max}`);
      fields.push(`"count": ${b.count}`);
      return `{${fields.join(", ")}}`;
    })
    .join(", ")}]`;
}

function jsonStats(v: StatsValue): string {
  return v.count === undefined ? String(v.average) : `{"count": ${v.count}, "average": ${v.average}, "total": ${v.total}}`;
}

/** One map as bpftrace's JSON line. */
export function jsonLine(map: BpftraceMap): string {
  const type = map.kind === "histogram" ? "hist" : map.kind === "stats" ? "stats" : "map";
  const value = (e: BpftraceMap["entries"][number]): string =>
    map.kind === "histogram" ? jsonBuckets(e.value as HistogramBucket[]) : map.kind === "stats" ? jsonStats(e.value as StatsValue) : JSON.stringify(e.value);
  const unkeyed = map.entries.length === 1 && map.entries[0]!.key === null;
  const body = unkeyed
    ? value(map.entries[0]!)
    : `{${map.entries.map((e) => `${JSON.stringify(jsonKeyText(e.key!.parts))}: ${value(e)}`).join(", ")}}`;
  return `{"type": "${type}", "data": {${JSON.stringify(map.name)}: ${body}}}`;
}

function textLabel(n: number, scale: "log2" | "linear"): string {
  if (scale === "log2") {
    const p = Math.log2(n);
    for (const [shift, suffix] of [[40, "T"], [30, "G"], [20, "M"], [10, "K"]] as const) if (p >= shift) return `${2 ** (p - shift)}${suffix}`;
    return String(n);
  }
  if (n !== 0 && n % 1048576 === 0) return `${n / 1048576}M`;
  if (n !== 0 && n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}

function textBuckets(buckets: HistogramBucket[], scale: "log2" | "linear"): string {
  const max = Math.max(...buckets.map((b) => b.count));
  return buckets
    .map((b) => {
      let header: string;
      if (b.min === undefined) header = `(..., ${textLabel(b.max! + 1, scale)})`;
      else if (b.max === undefined) header = `[${textLabel(b.min, scale)}, ...)`;
      else if (scale === "log2" && b.min === b.max) header = `[${b.min}]`;
      else header = `[${textLabel(b.min, scale)}, ${textLabel(b.max + 1, scale)})`;
      const bar = "@".repeat(max ? Math.floor((b.count / max) * 52) : 0);
      return `${header.padEnd(16)}${String(b.count).padStart(8)} |${bar.padEnd(52)}|\n`;
    })
    .join("");
}

/** One map as bpftrace's text output (the block printed at exit). */
export function textBlock(map: BpftraceMap): string {
  const lines: string[] = [];
  for (const e of map.entries) {
    const head = e.key ? `${map.name}[${textKeyText(e.key.parts)}]: ` : `${map.name}: `;
    if (map.kind === "histogram") lines.push(`${head}\n${textBuckets(e.value as HistogramBucket[], map.scale)}`);
    else if (map.kind === "stats") {
      const v = e.value as StatsValue;
      lines.push(`${head}count ${v.count}, average ${v.average}, total ${v.total}\n`);
    } else lines.push(`${head}${String(e.value)}\n`);
  }
  return lines.join(map.kind === "histogram" ? "\n" : "");
}

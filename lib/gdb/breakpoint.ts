/**
 * Breakpoints: how a location becomes gdb's linespec, and gdb's `bkpt` tuple as a typed value
 * (mi3 lists every location of a multi-location breakpoint under `locations`).
 */
import type { MiTuple, MiValue } from "./mi.js";
import { formatAddress, parseAddress } from "./stop.js";

export interface GdbBreakpoint {
  number: number;
  /** "hw breakpoint" or "breakpoint". */
  type: string;
  hardware: boolean;
  /** What was asked for, e.g. "do_sys_openat2" or "*0xffffffff81363fa0". */
  location: string;
  /** Resolved addresses (several for an inlined or duplicated function). */
  addresses: bigint[];
  function?: string;
}

/** A function name or linespec, or an address. */
export type Location = string | bigint | number;

/** A number, bigint or "0x…" is an address (`*0x…`); anything else goes to gdb as written. */
export function locationSpec(location: Location): string {
  if (typeof location === "bigint" || typeof location === "number") return `*${formatAddress(BigInt(location))}`;
  const text = location.trim();
  return /^0x[0-9a-f]+$/i.test(text) ? `*${text}` : text;
}

export function parseBreakpoint(value: MiValue | undefined, spec: string): GdbBreakpoint {
  const t = (value && typeof value === "object" && !Array.isArray(value) ? value : {}) as MiTuple;
  const locations = Array.isArray(t.locations) ? (t.locations as MiTuple[]) : [t];
  const addresses = locations.map((l) => parseAddress(l.addr as string)).filter((a): a is bigint => a !== undefined);
  const fn = (typeof t.func === "string" ? t.func : undefined) ?? (typeof t.at === "string" ? t.at.replace(/^<|(\+\d+)?>$/g, "") : undefined);
  const type = typeof t.type === "string" ? t.type : "breakpoint";
  return {
    number: Number(t.number),
    type,
    hardware: type.startsWith("hw"),
    location: typeof t["original-location"] === "string" ? t["original-location"] : spec,
    addresses,
    ...(fn ? { function: fn } : {}),
  };
}

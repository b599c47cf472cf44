/**
 * gdb's answers about target state, decoded: register values by name and memory blocks as bytes.
 */
import type { MiTuple, MiValue } from "./mi.js";
import { parseAddress } from "./stop.js";

/**
 * Integer registers by name from `-data-list-register-values x`. Vector registers print as
 * tuples of lanes (`{v4_float = …}`) and are left out; gdb's register numbers index `names`.
 */
export function integerRegisters(names: readonly string[], values: MiValue | undefined): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  if (!Array.isArray(values)) return out;
  for (const v of values as MiTuple[]) {
    const name = names[Number(v.number)];
    const text = typeof v.value === "string" ? v.value : "";
    if (name && /^(0x[0-9a-fA-F]+|-?\d+)$/.test(text)) out[name] = BigInt(text);
  }
  return out;
}

/**
 * The bytes of a `-data-read-memory-bytes` answer. gdb returns the readable blocks of the range
 * (hex contents at an offset), so `got` tells how much of it was actually there.
 */
export function memoryBytes(memory: MiValue | undefined, length: number): { bytes: Uint8Array; got: number } {
  const bytes = new Uint8Array(length);
  let got = 0;
  for (const block of (Array.isArray(memory) ? memory : []) as MiTuple[]) {
    const offset = Number(parseAddress(block.offset as string) ?? 0n);
    const chunk = Buffer.from(typeof block.contents === "string" ? block.contents : "", "hex");
    bytes.set(chunk.subarray(0, Math.max(0, length - offset)), offset);
    got += chunk.length;
  }
  return { bytes, got };
}

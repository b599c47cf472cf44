/**
 * /proc/kallsyms, parsed. Lines are `ADDRESS TYPE NAME [MODULE]`, with nm-style type letters:
 * lowercase is local, uppercase global; t/T text, d/D data, b/B bss, r/R read-only data,
 * w/W and v/V weak, a/A absolute (per-CPU offsets, not addresses).
 */

export interface KallsymsSymbol {
  name: string;
  address: bigint;
  /** The nm type letter as kallsyms printed it. */
  type: string;
  /** Module name for symbols of loadable modules (their addresses change per load). */
  module?: string;
}

/** The kernel's own symbols from kallsyms text; module symbols are kept with `module` set. */
export function parseKallsyms(text: string): KallsymsSymbol[] {
  const symbols: KallsymsSymbol[] = [];
  for (const raw of text.split("\n")) {
    const m = /^([0-9a-fA-F]{1,16})\s+([A-Za-z])\s+(\S+)(?:\s+\[(\S+)\])?\s*$/.exec(raw);
    if (!m) continue;
    symbols.push({ address: BigInt(`0x${m[1]}`), type: m[2]!, name: m[3]!, ...(m[4] ? { module: m[4] } : {}) });
  }
  return symbols;
}

/** Whether a kallsyms type letter names code. Weak symbols (w/W) in the kernel are functions. */
export function isTextSymbol(type: string): boolean {
  return /^[tTwW]$/.test(type);
}

/** Address of a symbol by name (the first one, as kallsyms lists it), or undefined. */
export function kallsymsAddress(symbols: readonly KallsymsSymbol[], name: string): bigint | undefined {
  return symbols.find((s) => s.name === name && !s.module)?.address;
}

/**
 * True when kallsyms shows real addresses. With kptr_restrict set, or read by an unprivileged
 * user, the kernel prints every address as zero.
 */
export function kallsymsHasAddresses(symbols: readonly KallsymsSymbol[]): boolean {
  return symbols.some((s) => s.address !== 0n && !/^[aA]$/.test(s.type));
}

/**
 * A symbol-only ELF for gdb, written from kallsyms: names, addresses and sizes, no DWARF and no
 * code. Debian's vmlinux is stripped and its System.map is a placeholder, so the running
 * kernel's /proc/kallsyms is the only name table there is; gdb loads this file with
 * `symbol-file` and can then `break do_sys_openat2`, backtrace by name and `info symbol`.
 *
 * Every section is NOBITS: gdb reads code and data from the target (QEMU's gdbstub), never from
 * this file. Sections come from the vmlinux's own section headers when known, otherwise from the
 * runs of text and data addresses in kallsyms (six runs on a Debian 6.1 kernel).
 */
import { isTextSymbol, type KallsymsSymbol } from "./kallsyms.js";

export interface SymbolElfSection {
  name: string;
  address: bigint;
  size: bigint;
  executable: boolean;
}

export interface SymbolElfOptions {
  /** Subtracted from every kallsyms address (the KASLR slide of the boot that printed it). */
  slide?: bigint;
  /** Sections of the matching vmlinux; symbols outside them are dropped. */
  sections?: readonly SymbolElfSection[];
}

interface PlacedSymbol {
  name: string;
  address: bigint;
  size: bigint;
  section: number;
  bind: number;
  type: number;
}

const SHT_NOBITS = 8;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHF_WRITE = 1n;
const SHF_ALLOC = 2n;
const SHF_EXECINSTR = 4n;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STT_OBJECT = 1;
const STT_FUNC = 2;
/** Page size: where kallsyms gives no end for the last run, it ends a page after its last symbol. */
const TAIL = 0x1000n;

/** Builds the ELF bytes. Module and absolute symbols are left out (they are not kernel addresses). */
export function buildSymbolElf(symbols: readonly KallsymsSymbol[], options: SymbolElfOptions = {}): Uint8Array {
  const slide = options.slide ?? 0n;
  const kept = symbols
    .filter((s) => !s.module && !/^[aAuUnN?]$/.test(s.type))
    .map((s) => ({ ...s, address: s.address - slide }))
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const sections = options.sections?.length ? [...options.sections] : sectionsFromRuns(kept);
  const placed = placeSymbols(kept, sections);
  return writeElf(sections, placed);
}

/** Consecutive symbols of one kind (text or data) form one section. */
export function sectionsFromRuns(sorted: readonly KallsymsSymbol[]): SymbolElfSection[] {
  const runs: { start: bigint; last: bigint; executable: boolean }[] = [];
  for (const s of sorted) {
    const executable = isTextSymbol(s.type);
    const run = runs.at(-1);
    if (run && run.executable === executable) run.last = s.address;
    else runs.push({ start: s.address, last: s.address, executable });
  }
  const counts = { text: 0, data: 0 };
  return runs.map((run, i) => {
    const end = i + 1 < runs.length ? runs[i + 1]!.start : run.last + TAIL;
    const kind = run.executable ? "text" : "data";
    const name = counts[kind]++ === 0 ? `.${kind}` : `.${kind}.${counts[kind] - 1}`;
    return { name, address: run.start, size: end - run.start, executable: run.executable };
  });
}

/** Assigns each symbol its section and a size reaching to the next symbol (or the section end). */
function placeSymbols(sorted: readonly KallsymsSymbol[], sections: readonly SymbolElfSection[]): PlacedSymbol[] {
  const order = sections.map((s, i) => ({ ...s, index: i + 1 })).sort((a, b) => (a.address < b.address ? -1 : 1));
  const placed: PlacedSymbol[] = [];
  let k = 0;
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i]!;
    while (k < order.length && order[k]!.address + order[k]!.size <= s.address) k++;
    const section = order[k];
    if (!section || s.address < section.address) continue;
    const sectionEnd = section.address + section.size;
    let next = sectionEnd;
    for (let j = i + 1; j < sorted.length; j++) {
      if (sorted[j]!.address > s.address) {
        next = sorted[j]!.address < sectionEnd ? sorted[j]!.address : sectionEnd;
        break;
      }
    }
    const lower = s.type === s.type.toLowerCase();
    const weak = /^[wWvV]$/.test(s.type);
    placed.push({
      name: s.name,
      address: s.address,
      size: next - s.address,
      section: section.index,
      bind: weak ? STB_WEAK : lower ? STB_LOCAL : STB_GLOBAL,
      type: section.executable ? STT_FUNC : STT_OBJECT,
    });
  }
  // ELF wants every local symbol before the first global one (sh_info marks the boundary).
  return [...placed.filter((p) => p.bind === STB_LOCAL), ...placed.filter((p) => p.bind !== STB_LOCAL)];
}

/** A string table: NUL first, then each name NUL-terminated; returns offsets by insertion. */
class StringTable {
  private readonly chunks: Buffer[] = [Buffer.from([0])];
  private length = 1;
  add(text: string): number {
    const offset = this.length;
    const bytes = Buffer.from(`${text}\0`, "utf8");
    this.chunks.push(bytes);
    this.length += bytes.length;
    return offset;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeElf(sections: readonly SymbolElfSection[], symbols: readonly PlacedSymbol[]): Uint8Array {
  const shstr = new StringTable();
  const str = new StringTable();
  const symtab = Buffer.alloc(24 * (symbols.length + 1));
  symbols.forEach((s, i) => {
    const o = 24 * (i + 1);
    symtab.writeUInt32LE(str.add(s.name), o);
    symtab.writeUInt8((s.bind << 4) | s.type, o + 4);
    symtab.writeUInt8(0, o + 5);
    symtab.writeUInt16LE(s.section, o + 6);
    symtab.writeBigUInt64LE(s.address, o + 8);
    symtab.writeBigUInt64LE(s.size, o + 16);
  });
  const firstGlobal = 1 + symbols.filter((s) => s.bind === STB_LOCAL).length;

  const headers: { name: number; type: number; flags: bigint; addr: bigint; offset: number; size: bigint; link: number; info: number; align: bigint; entsize: bigint }[] = [];
  headers.push({ name: 0, type: 0, flags: 0n, addr: 0n, offset: 0, size: 0n, link: 0, info: 0, align: 0n, entsize: 0n });
  for (const s of sections) {
    const flags = SHF_ALLOC | (s.executable ? SHF_EXECINSTR : SHF_WRITE);
    headers.push({ name: shstr.add(s.name), type: SHT_NOBITS, flags, addr: s.address, offset: 64, size: s.size, link: 0, info: 0, align: 1n, entsize: 0n });
  }
  const symtabIndex = headers.length;
  const strtab = str.bytes();
  const symtabName = shstr.add(".symtab");
  const strtabName = shstr.add(".strtab");
  const shstrtabName = shstr.add(".shstrtab");
  const shstrtab = shstr.bytes();

  let offset = 64;
  const symtabOffset = offset;
  offset += symtab.length;
  const strtabOffset = offset;
  offset += strtab.length;
  const shstrtabOffset = offset;
  offset += shstrtab.length;
  const shoff = (offset + 7) & ~7;

  headers.push({ name: symtabName, type: SHT_SYMTAB, flags: 0n, addr: 0n, offset: symtabOffset, size: BigInt(symtab.length), link: symtabIndex + 1, info: firstGlobal, align: 8n, entsize: 24n });
  headers.push({ name: strtabName, type: SHT_STRTAB, flags: 0n, addr: 0n, offset: strtabOffset, size: BigInt(strtab.length), link: 0, info: 0, align: 1n, entsize: 0n });
  headers.push({ name: shstrtabName, type: SHT_STRTAB, flags: 0n, addr: 0n, offset: shstrtabOffset, size: BigInt(shstrtab.length), link: 0, info: 0, align: 1n, entsize: 0n });

  const out = Buffer.alloc(shoff + 64 * headers.length);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELF, 64-bit, little-endian, version 1, SysV ABI
  out.writeUInt16LE(2, 16); // ET_EXEC, like vmlinux
  out.writeUInt16LE(62, 18); // EM_X86_64
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(BigInt(shoff), 40);
  out.writeUInt16LE(64, 52); // e_ehsize
  out.writeUInt16LE(56, 54); // e_phentsize (no program headers)
  out.writeUInt16LE(64, 58); // e_shentsize
  out.writeUInt16LE(headers.length, 60);
  out.writeUInt16LE(headers.length - 1, 62); // .shstrtab is last
  symtab.copy(out, symtabOffset);
  strtab.copy(out, strtabOffset);
  shstrtab.copy(out, shstrtabOffset);
  headers.forEach((h, i) => {
    const o = shoff + 64 * i;
    out.writeUInt32LE(h.name, o);
    out.writeUInt32LE(h.type, o + 4);
    out.writeBigUInt64LE(h.flags, o + 8);
    out.writeBigUInt64LE(h.addr, o + 16);
    out.writeBigUInt64LE(BigInt(h.offset), o + 24);
    out.writeBigUInt64LE(h.size, o + 32);
    out.writeUInt32LE(h.link, o + 40);
    out.writeUInt32LE(h.info, o + 44);
    out.writeBigUInt64LE(h.align, o + 48);
    out.writeBigUInt64LE(h.entsize, o + 56);
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

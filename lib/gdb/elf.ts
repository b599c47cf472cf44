/**
 * Just enough of an ELF reader to choose kernel symbols: the section table, whether DWARF is
 * there, and the GNU build ID. Only headers and notes are read, so a 600 MB vmlinux with debug
 * info costs a few small reads.
 */
import { open, type FileHandle } from "node:fs/promises";
import { UsageError } from "../errors/index.js";

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  address: bigint;
  offset: bigint;
  size: bigint;
}

export interface ElfSummary {
  sections: ElfSection[];
  /** `.debug_info` present and non-empty: gdb gets types, arguments and line numbers. */
  hasDwarf: boolean;
  /** `.symtab` present: names for every function, not only exported ones. */
  hasSymtab: boolean;
  /** GNU build ID (hex), the same in a stripped vmlinux and its debug twin. */
  buildId?: string;
}

const SHT_NOBITS = 8;
const SHT_NOTE = 7;
const SHF_ALLOC = 2n;
const SHF_EXECINSTR = 4n;
const NT_GNU_BUILD_ID = 3;

const VMLINUX_HINT = "Pass the vmlinux your kernel build produced (at the top of the build tree, next to arch/x86/boot/bzImage).";

/** An ELF file a user named cannot be used: a usage error, never a stack trace. */
function badElf(path: string, what: string): UsageError {
  return new UsageError(`${path} ${what}.`, { hint: VMLINUX_HINT });
}

/** Opens a file a user named, turning "no such file", "is a directory" and the like into usage errors. */
async function openUserFile(path: string): Promise<FileHandle> {
  try {
    const file = await open(path, "r");
    if (!(await file.stat()).isFile()) {
      await file.close();
      throw badElf(path, "is not a file");
    }
    return file;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw badElf(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** True when the file starts with the ELF magic. */
export async function isElfFile(path: string): Promise<boolean> {
  const file = await openUserFile(path);
  try {
    const head = Buffer.alloc(4);
    await file.read(head, 0, 4, 0);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    await file.close();
  }
}

/** Reads the section table and build ID of a 64-bit little-endian ELF file. */
export async function readElfSummary(path: string): Promise<ElfSummary> {
  const file = await openUserFile(path);
  try {
    const read = async (offset: bigint, length: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, Number(offset));
      if (bytesRead < length) throw badElf(path, "is a truncated ELF file");
      return buffer;
    };
    const header = await read(0n, 64);
    if (!header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || header[4] !== 2 || header[5] !== 1) {
      throw badElf(path, "is not a 64-bit little-endian ELF file (an x86-64 vmlinux is)");
    }
    const shoff = header.readBigUInt64LE(40);
    const shentsize = header.readUInt16LE(58);
    const shnum = header.readUInt16LE(60);
    const shstrndx = header.readUInt16LE(62);
    const table = await read(shoff, shentsize * shnum);
    const raw = Array.from({ length: shnum }, (_, i) => {
      const o = i * shentsize;
      return {
        nameOffset: table.readUInt32LE(o),
        type: table.readUInt32LE(o + 4),
        flags: table.readBigUInt64LE(o + 8),
        address: table.readBigUInt64LE(o + 16),
        offset: table.readBigUInt64LE(o + 24),
        size: table.readBigUInt64LE(o + 32),
      };
    });
    const names = shstrndx < raw.length ? await read(raw[shstrndx]!.offset, Number(raw[shstrndx]!.size)) : Buffer.alloc(0);
    const sections = raw.map((s) => {
      const end = names.indexOf(0, s.nameOffset);
      return { name: names.toString("latin1", s.nameOffset, end < 0 ? names.length : end), type: s.type, flags: s.flags, address: s.address, offset: s.offset, size: s.size };
    });
    let buildId: string | undefined;
    for (const s of sections) {
      if (s.type !== SHT_NOTE || s.size === 0n || s.size > 1_000_000n) continue;
      buildId = findBuildId(await read(s.offset, Number(s.size)));
      if (buildId) break;
    }
    return {
      sections,
      hasDwarf: sections.some((s) => (s.name === ".debug_info" || s.name === ".zdebug_info") && s.size > 0n && s.type !== SHT_NOBITS),
      hasSymtab: sections.some((s) => s.name === ".symtab" && s.size > 24n),
      ...(buildId ? { buildId } : {}),
    };
  } finally {
    await file.close();
  }
}

/** The GNU build ID in a block of ELF notes (4-byte aligned name and descriptor). */
export function findBuildId(notes: Buffer): string | undefined {
  let o = 0;
  while (o + 12 <= notes.length) {
    const namesz = notes.readUInt32LE(o);
    const descsz = notes.readUInt32LE(o + 4);
    const type = notes.readUInt32LE(o + 8);
    const nameStart = o + 12;
    const descStart = nameStart + align4(namesz);
    if (descStart + descsz > notes.length) return undefined;
    const name = notes.toString("latin1", nameStart, nameStart + Math.max(0, namesz - 1));
    if (name === "GNU" && type === NT_GNU_BUILD_ID) return notes.toString("hex", descStart, descStart + descsz);
    o = descStart + align4(descsz);
  }
  return undefined;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The kernel's own allocated sections (upper half of the address space), for the symbol ELF. */
export function kernelSections(summary: ElfSummary): { name: string; address: bigint; size: bigint; executable: boolean }[] {
  return summary.sections
    .filter((s) => (s.flags & SHF_ALLOC) !== 0n && s.size > 0n && s.address >= 0xffff800000000000n)
    .map((s) => ({ name: s.name, address: s.address, size: s.size, executable: (s.flags & SHF_EXECINSTR) !== 0n }));
}

/** Where `.text` starts in the file's link-time address space (x86-64: `_text`). */
export function textAddress(summary: ElfSummary): bigint | undefined {
  return summary.sections.find((s) => s.name === ".text")?.address;
}

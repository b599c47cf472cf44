/**
 * Choosing the symbol file gdb loads for a guest kernel, best first:
 *   1. the user's own vmlinux (a custom kernel built with DWARF: types, arguments, lines);
 *   2. Debian's linux-image-<release>-dbg vmlinux, when the user opts in (≈ 815 MB download) or
 *      it is already in the cache;
 *   3. an ELF kbook writes from the guest's /proc/kallsyms (names and addresses only), so
 *      `break do_sys_openat2` works on the default image with no download;
 *   4. the booted kernel itself, if it is an ELF that still has a symbol table.
 * It also says whether addresses are stable across boots (KASLR).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors/index.js";
import { cacheRoot } from "../paths.js";
import type { ProgressListener } from "../progress/index.js";
import { cachedDebianDebugVmlinux, fetchDebianDebugVmlinux } from "./debian-dbg.js";
import { isElfFile, kernelSections, readElfSummary, textAddress, type ElfSummary } from "./elf.js";
import { kallsymsAddress, kallsymsHasAddresses, parseKallsyms } from "./kallsyms.js";
import { buildSymbolElf } from "./symbol-elf.js";

export type KernelSymbolSource = "vmlinux" | "debian-dbg" | "kallsyms" | "kernel-image" | "none";

export interface KernelSymbols {
  /** File for gdb to load, or undefined when there is nothing better than raw addresses. */
  path?: string;
  source: KernelSymbolSource;
  /** Types, arguments and line numbers are available. */
  dwarf: boolean;
  /** Whether symbol addresses hold across boots: true with nokaslr, false with KASLR on. */
  stableAddresses: boolean | undefined;
  /** Things the user should know, one sentence each. */
  warnings: string[];
  /** Address of `linux_banner` when known, to check symbols against the running kernel. */
  bannerAddress?: bigint;
  /** The source tree for `list` (a kbook linux build's). */
  sourceDir?: string;
  /** The directory of vmlinux-gdb.py and scripts/gdb, trusted for auto-loading (lx-ps…). */
  gdbScriptsDir?: string;
}

export interface KernelSymbolOptions {
  /** The kernel QEMU booted (ELF vmlinux or bzImage). */
  kernelPath: string;
  /** Host copy of the guest's /proc/kallsyms. */
  kallsymsPath?: string;
  /** The user's vmlinux (with DWARF for the full experience). */
  vmlinux?: string;
  /** With `vmlinux`: its source tree, for gdb's `list`. */
  sourceDir?: string;
  /** With `vmlinux`: the directory holding its vmlinux-gdb.py and scripts/gdb. */
  gdbScriptsDir?: string;
  /**
   * Use Debian's -dbg package for this kernel release ("6.1.0-56-amd64"). `true` takes the release
   * from `kernelRelease`; the download only happens when this is set.
   */
  debianDebug?: boolean | { release: string; version?: string };
  /** `uname -r` of the guest, to find a cached Debian debug vmlinux. */
  kernelRelease?: string;
  /** Whether the guest was booted with nokaslr, when known. */
  nokaslr?: boolean;
  /** kbook's cache root (default $KBOOK_CACHE or ~/.cache/kbook). */
  cacheDir?: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/** x86-64's default link address of `_text` (CONFIG_PHYSICAL_START 16 MiB above the kernel map). */
const DEFAULT_TEXT_ADDRESS = 0xffffffff81000000n;
const KERNEL_HALF = 0xffff800000000000n;
/** Bump when the symbol ELF format changes, so old cache entries are not reused. */
const SYMBOL_ELF_FORMAT = "1";

export async function resolveKernelSymbols(options: KernelSymbolOptions): Promise<KernelSymbols> {
  const warnings: string[] = [];
  const cacheDir = options.cacheDir ?? cacheRoot();
  const kernelElf = (await isElfFile(options.kernelPath).catch(() => false)) ? await readElfSummary(options.kernelPath) : undefined;
  const kaslr = kaslrStatus(options.nokaslr, warnings);

  if (options.vmlinux) {
    if (!existsSync(options.vmlinux)) throw new UsageError(`No vmlinux at ${options.vmlinux}.`, { hint: "Pass the vmlinux your kernel build produced (next to arch/x86/boot/bzImage)." });
    if (!(await isElfFile(options.vmlinux))) {
      throw new UsageError(`${options.vmlinux} is not an ELF file.`, { hint: "gdb needs the uncompressed vmlinux from the kernel build, not bzImage." });
    }
    const summary = await readElfSummary(options.vmlinux);
    checkBuildId(summary, kernelElf, options.vmlinux, warnings);
    if (!summary.hasDwarf) warnings.push(`${options.vmlinux} has no DWARF: gdb knows names but not types, arguments or lines (build with CONFIG_DEBUG_INFO).`);
    if (!summary.hasSymtab && !summary.hasDwarf) warnings.push(`${options.vmlinux} is stripped: gdb will not know function names.`);
    return {
      path: options.vmlinux,
      source: "vmlinux",
      dwarf: summary.hasDwarf,
      stableAddresses: kaslr,
      warnings,
      ...(options.sourceDir ? { sourceDir: options.sourceDir } : {}),
      ...(options.gdbScriptsDir ? { gdbScriptsDir: options.gdbScriptsDir } : {}),
    };
  }

  const release = typeof options.debianDebug === "object" ? options.debianDebug.release : options.kernelRelease;
  const version = typeof options.debianDebug === "object" ? options.debianDebug.version : undefined;
  if (options.debianDebug && !release) {
    throw new UsageError("Debian debug symbols need the guest's kernel release.", { hint: "Pass debianDebug: { release: '6.1.0-…-amd64' }." });
  }
  let debug = release ? cachedDebianDebugVmlinux(cacheDir, release, version) : undefined;
  if (!debug && options.debianDebug && release) {
    debug = await fetchDebianDebugVmlinux({ release, version, cacheDir, onProgress: options.onProgress, signal: options.signal });
  }
  if (debug) {
    checkBuildId(await readElfSummary(debug), kernelElf, debug, warnings);
    return { path: debug, source: "debian-dbg", dwarf: true, stableAddresses: kaslr, warnings };
  }

  if (options.kallsymsPath) {
    const built = await kallsymsSymbolFile(options.kallsymsPath, kernelElf, cacheDir, warnings);
    if (built) return { ...built, source: "kallsyms", dwarf: false, stableAddresses: kaslr, warnings };
  }

  if (kernelElf?.hasSymtab) {
    return { path: options.kernelPath, source: "kernel-image", dwarf: kernelElf.hasDwarf, stableAddresses: kaslr, warnings };
  }
  warnings.push("No kernel symbols: gdb can break on addresses only (give a vmlinux, or an image with a kallsyms file).");
  return { source: "none", dwarf: false, stableAddresses: kaslr, warnings };
}

function kaslrStatus(nokaslr: boolean | undefined, warnings: string[]): boolean | undefined {
  if (nokaslr === false) {
    warnings.push("KASLR is on (no 'nokaslr' on the kernel command line): the kernel moves on every boot, so symbol addresses will not match. Boot with nokaslr (kbook's default).");
  }
  return nokaslr;
}

function checkBuildId(symbols: ElfSummary, kernel: ElfSummary | undefined, path: string, warnings: string[]): void {
  if (symbols.buildId && kernel?.buildId && symbols.buildId !== kernel.buildId) {
    warnings.push(`${path} is not the booted kernel (build ID ${symbols.buildId.slice(0, 12)}… vs ${kernel.buildId.slice(0, 12)}…): symbols will point at the wrong code.`);
  }
}

/**
 * The kallsyms symbol ELF, cached by content hash. kallsyms printed by a randomised boot is moved
 * back to link addresses (kallsyms `_text` minus the vmlinux's `.text`), which match a nokaslr boot.
 */
async function kallsymsSymbolFile(
  kallsymsPath: string,
  kernelElf: ElfSummary | undefined,
  cacheDir: string,
  warnings: string[],
): Promise<{ path: string; bannerAddress?: bigint } | undefined> {
  const text = await readFile(kallsymsPath, "utf8");
  const symbols = parseKallsyms(text);
  if (!kallsymsHasAddresses(symbols)) {
    warnings.push(`${kallsymsPath} has only zero addresses (read with kptr_restrict set): it cannot give symbols. Read /proc/kallsyms as root with kernel.kptr_restrict=0.`);
    return undefined;
  }
  const kallsymsText = kallsymsAddress(symbols, "_text");
  // Only a kernel's ELF (text in the upper half) says where the kernel is linked.
  const elfText = kernelElf ? textAddress(kernelElf) : undefined;
  const linkText = elfText !== undefined && elfText >= KERNEL_HALF ? elfText : DEFAULT_TEXT_ADDRESS;
  const slide = kallsymsText !== undefined ? kallsymsText - linkText : 0n;
  if (slide !== 0n) {
    warnings.push(`${kallsymsPath} was captured from a boot with KASLR (_text at 0x${kallsymsText!.toString(16)}): its addresses were moved back by 0x${slide.toString(16)} to match a nokaslr boot.`);
  }
  const sections = kernelElf && kernelSections(kernelElf).length ? kernelSections(kernelElf) : undefined;
  const key = createHash("sha256")
    .update(`${SYMBOL_ELF_FORMAT}\n${slide}\n${JSON.stringify(sections ?? [], (_, v) => (typeof v === "bigint" ? v.toString() : v))}\n`)
    .update(text)
    .digest("hex")
    .slice(0, 16);
  const dir = join(cacheDir, "gdb");
  const path = join(dir, `kallsyms-${key}.elf`);
  if (!existsSync(path)) {
    await mkdir(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, buildSymbolElf(symbols, { slide, sections }));
    await rename(tmp, path);
  }
  const banner = kallsymsAddress(symbols, "linux_banner");
  return { path, ...(banner !== undefined ? { bannerAddress: banner - slide } : {}) };
}

/**
 * connectGdb: a GdbSession attached to a guest kernel through QEMU's gdbstub, with the best
 * symbols available loaded. QEMU halts the guest's CPUs as soon as gdb connects; they run again
 * on `continue()`, `detach()` or `close()`.
 */
import { UsageError } from "../errors/index.js";
import type { ProgressListener } from "../progress/index.js";
import { GdbSession } from "./session.js";
import { formatAddress } from "./stop.js";
import { quoteMiArgument } from "./mi.js";
import { resolveKernelSymbols, type KernelSymbolOptions, type KernelSymbols } from "./symbols.js";

export interface GdbTarget {
  /** The gdbstub's address: kbook's VMs listen on 127.0.0.1 only. */
  host?: string;
  port: number;
  /** The kernel QEMU booted (ELF vmlinux or bzImage). */
  kernelPath: string;
  /** Host copy of the guest's /proc/kallsyms (the image has one). */
  kallsymsPath?: string;
  /** Your vmlinux with DWARF, for a kernel you built. */
  vmlinux?: string;
  /** Its source tree, for `list` and source lines at stops. */
  sourceDir?: string;
  /** The directory of its vmlinux-gdb.py and scripts/gdb (loaded: lx-dmesg, lx-ps, $lx_current()). */
  gdbScriptsDir?: string;
  /** Opt in to Debian's -dbg package (≈ 815 MB download, cached). */
  debianDebug?: KernelSymbolOptions["debianDebug"];
  /** `uname -r` of the guest. */
  kernelRelease?: string;
  /** Whether the kernel command line has nokaslr. */
  nokaslr?: boolean;
  cacheDir?: string;
  gdbPath?: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/** Kernel addresses start here on x86-64; below it the CPU is still in firmware or early boot. */
const KERNEL_TEXT_BASE = 0xffffffff80000000n;

export async function connectGdb(target: GdbTarget): Promise<GdbSession> {
  const host = target.host ?? "127.0.0.1";
  if (!Number.isInteger(target.port) || target.port <= 0 || target.port > 65535) {
    throw new UsageError(`gdbstub port ${target.port} is not a TCP port.`, { hint: "Boot the VM with bootVm({ gdb: true }) and use vm.gdbPort." });
  }
  const symbols = await resolveKernelSymbols(target);
  const session = await GdbSession.start({ gdbPath: target.gdbPath });
  try {
    session.kernelSymbols = symbols;
    session.warnings.push(...symbols.warnings);
    await loadKernelSymbols(session, symbols);
    await session.targetRemote(host, target.port);
    const check = await checkKernelAddresses(session, symbols);
    if (check.verdict === "mismatch") session.warnings.push(check.message);
    return session;
  } catch (error) {
    await session.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Loads the symbol file; for a kbook linux build also its gdb scripts (vmlinux-gdb.py beside
 * vmlinux, trusted for auto-load in that directory only) and its source tree.
 */
async function loadKernelSymbols(session: GdbSession, symbols: KernelSymbols): Promise<void> {
  if (symbols.gdbScriptsDir) await session.command(`add-auto-load-safe-path ${symbols.gdbScriptsDir}`);
  if (symbols.path) await session.loadFile(symbols.path);
  if (symbols.sourceDir) await session.mi(`-environment-directory ${quoteMiArgument(symbols.sourceDir)}`);
  if (symbols.gdbScriptsDir && !(await session.command("help lx-ps").then(() => true, () => false))) {
    session.warnings.push(`The kernel's gdb scripts did not load from ${symbols.gdbScriptsDir} (is gdb built with Python?): lx-ps and $lx_current() are not available.`);
  }
}

export interface AddressCheck {
  verdict: "match" | "mismatch" | "unknown";
  message: string;
}

/**
 * Checks that the loaded symbols describe the running kernel: the bytes at `linux_banner` must
 * read "Linux version". A kernel moved by KASLR, or a vmlinux from another build, fails this.
 * At a paused boot (CPUs at reset) the kernel is not mapped yet, so nothing can be checked.
 */
export async function checkKernelAddresses(session: GdbSession, symbols: KernelSymbols): Promise<AddressCheck> {
  if (symbols.source === "none") return { verdict: "unknown", message: "No symbols to check." };
  const registers = await session.registers().catch(() => ({}) as Record<string, bigint>);
  const pc = registers.rip ?? registers.pc;
  if (pc === undefined || pc < KERNEL_TEXT_BASE) {
    return { verdict: "unknown", message: "The kernel is not running yet (CPUs at reset): symbol addresses can be checked once it is." };
  }
  let banner = symbols.bannerAddress;
  if (banner === undefined) {
    const text = await session.eval("(unsigned long)&linux_banner").catch(() => "");
    banner = /^\d+$/.test(text) ? BigInt(text) : undefined;
  }
  if (banner === undefined) return { verdict: "unknown", message: "The symbols have no linux_banner to check against." };
  const bytes = await session.read(banner, 13).catch(() => undefined);
  if (bytes && Buffer.from(bytes).toString("latin1") === "Linux version") {
    return { verdict: "match", message: `linux_banner at ${formatAddress(banner)} reads "Linux version": symbols match the running kernel.` };
  }
  return {
    verdict: "mismatch",
    message: `The symbols do not match the running kernel (no "Linux version" at linux_banner, ${formatAddress(banner)}): KASLR moved it, or the symbols are from another build. Boot with nokaslr and matching symbols.`,
  };
}

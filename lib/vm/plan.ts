/**
 * Planning a boot: everything about a VM decided before QEMU starts — the accelerator, the
 * overlay over the read-only base disk, the initrd with kbook's guest kit, the kernel command
 * line, the gdbstub port, and once, here, which kernel boots and what describes it (symbols,
 * KASLR), so the VM, gdb and the CLI read one answer instead of working it out again.
 *
 * Two steps: `decideBoot` settles the machine without touching the disk (what a saved state's
 * key is made of), `materializeBoot` makes the VM's run directory for a cold boot or for a
 * resume from a saved state (then the overlay sits over the state's disk and the memory comes
 * from its file instead of from a boot).
 */
import { access, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildQemuArgv, kernelCommandLine, type QemuPlan } from "./argv.js";
import { checkKernelFile, type BootableImage } from "./image.js";
import { guestKit, type GuestKitMode } from "./kit.js";
import { freeLocalPort, removeStaleRunDirs } from "./qemu-process.js";
import { detectAccel } from "../system/accel.js";
import { runTool } from "../system/run.js";
import { UsageError } from "../errors/index.js";
import { ProgressReporter, type ProgressListener } from "../progress/index.js";

/** A kernel of your own, with what describes it (a `kbook linux build` fills in all of it). */
export interface OwnKernel {
  /** The file QEMU boots: a bzImage or an uncompressed vmlinux. */
  path: string;
  /** The vmlinux with symbols (DWARF) gdb loads, when it is not `path` itself. */
  vmlinux?: string;
  /** The source tree the build's file names resolve against, for gdb's `list`. */
  sourceDir?: string;
  /** The build directory holding vmlinux-gdb.py and scripts/gdb (lx-dmesg, lx-ps…). */
  gdbScriptsDir?: string;
  /** `uname -r` of that kernel, when known before it boots. */
  release?: string;
}

/** Which kernel boots and what describes it, decided once per boot. */
export interface BootKernel extends OwnKernel {
  /** True when the user brought the kernel (the image's kallsyms then does not describe it). */
  own: boolean;
  /** Host copy of this kernel's /proc/kallsyms (the image's, for the image's own kernel). */
  kallsymsPath?: string;
  /** `nokaslr` is on the command line, so symbol addresses hold across boots. */
  nokaslr: boolean;
}

/** What the VM layer needs to boot: an image it is given, and how to run it. */
export interface VmOptions {
  image: BootableImage;
  /** Your own kernel instead of the image's, like the article's `-kernel arch/x86/boot/bzImage`. */
  kernel?: string | OwnKernel;
  /** Your own initrd instead of the image's. */
  initrd?: string;
  /** Words added to the kernel command line (after root=/dev/sda console=ttyS0 nokaslr rw). */
  append?: string;
  /** Guest memory in MiB (default 1024). */
  memory?: number;
  /** Virtual CPUs (default 2). */
  smp?: number;
  /** "auto" (default): KVM when it really works here, else multi-threaded TCG. */
  accel?: "auto" | "kvm" | "tcg";
  /** A host folder shared with the guest over 9p, mounted at /mnt/host. */
  share?: string | { path: string; readonly?: boolean };
  /** Start QEMU's gdbstub on 127.0.0.1 at a free port. */
  gdb?: boolean;
  /** With gdb: hold the CPUs at reset so start_kernel can be caught. */
  paused?: boolean;
  /** Give up waiting for the guest after this many ms (default 120 s; TCG is slow). */
  bootTimeoutMs?: number;
  /** Show the kernel's boot messages on the console (no `quiet`). */
  verbose?: boolean;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Console bytes as they arrive. */
  onConsole?: (chunk: Uint8Array) => void;
  /**
   * Boot from the first instruction: neither resume from a saved state nor save one. Without
   * it, a configuration booted before resumes from the state saved after its first boot
   * (see saved-state.ts); `paused` and `share` always boot cold. KBOOK_RESUME=0 in the
   * environment makes every boot cold.
   */
  cold?: boolean;
}

/** Where a boot's files come from, before the VM's own copies: part of a saved state's key. */
export interface BootSources {
  /** The initrd the image (or the user) gives, before kbook's kit is appended. */
  initrd?: string;
  /** How the guest kit is added, when it is. */
  kit?: GuestKitMode;
  /** The read-only base disk under the VM's overlay. */
  disk?: { path: string; format: "raw" | "qcow2"; interface: "ide" | "virtio" };
}

/** A boot decided, before anything is written: the machine, its kernel and where its files are. */
export interface BootDecision {
  image: BootableImage;
  kernel: BootKernel;
  sources: BootSources;
  accel: "kvm" | "tcg";
  accelReason: string;
  memoryMb: number;
  smp: number;
  append: string;
  share?: QemuPlan["share"];
  gdb: boolean;
  paused: boolean;
}

/** The saved state a boot resumes from: its migration stream and the disk as it was saved. */
export interface ResumeSource {
  /** The saved disk layer (qcow2 over the base disk), when the image has a disk. */
  disk?: string;
}

/** Everything needed to start QEMU, decided before it starts. */
export interface BootPlan {
  image: BootableImage;
  kernel: BootKernel;
  plan: QemuPlan;
  argv: string[];
  runDir: string;
  accelReason: string;
  decision: BootDecision;
  /** Set when QEMU takes its memory and devices from a saved state instead of booting. */
  resume?: ResumeSource;
}

/** Checks the options that need no file system, then the files they name. */
async function checkOptions(options: VmOptions): Promise<void> {
  if (options.paused && !options.gdb) throw new UsageError("paused: true needs gdb: true (only a debugger can let the CPUs run).");
  for (const [name, v, min, max] of [["memory", options.memory, 128, 65536], ["smp", options.smp, 1, 64]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got ${v}.`);
  }
  if (options.initrd) await access(resolve(options.initrd)).catch(() => {
    throw new UsageError(`initrd ${options.initrd} does not exist or is not readable.`);
  });
}

/** The kernel that boots: the user's (checked) or the image's, with what describes it. */
async function bootKernel(options: VmOptions, append: string): Promise<BootKernel> {
  const nokaslr = /(^| )nokaslr( |$)/.test(append);
  const { image } = options;
  if (!options.kernel) {
    const path = join(image.dir, image.layout.vmlinux ?? image.layout.kernel);
    return { path, own: false, kallsymsPath: image.kallsyms, release: image.layout.kernelRelease, nokaslr };
  }
  const own = typeof options.kernel === "string" ? { path: options.kernel } : options.kernel;
  const path = resolve(own.path);
  const format = await checkKernelFile(path);
  // An ELF kernel is its own symbol file; a bzImage has none (its vmlinux must be given).
  const vmlinux = own.vmlinux ? resolve(own.vmlinux) : format === "elf" ? path : undefined;
  return { ...own, path, vmlinux, own: true, nokaslr };
}

/** Decides the machine for a boot without writing anything. */
export async function decideBoot(options: VmOptions): Promise<BootDecision> {
  await checkOptions(options);
  let share: QemuPlan["share"];
  if (options.share) {
    const s = typeof options.share === "string" ? { path: options.share } : options.share;
    await access(resolve(s.path)).catch(() => {
      throw new UsageError(`Shared folder ${s.path} does not exist.`);
    });
    share = { path: resolve(s.path), tag: "kbookshare", readonly: s.readonly };
  }
  const { image } = options;
  const layout = image.layout;
  const extra = share ? [`kbook.share=${share.tag}`] : [];
  const append = kernelCommandLine(layout.append, options.append, extra).replace(options.verbose ? / quiet(?= )/ : /$^/, "");
  const kernel = await bootKernel(options, append);
  const detected = await detectAccel();
  const accel = options.accel === undefined || options.accel === "auto" ? detected.accel : options.accel;
  const sources: BootSources = {
    initrd: options.initrd ? resolve(options.initrd) : layout.initrd ? join(image.dir, layout.initrd) : undefined,
    kit: layout.kit && !options.initrd ? layout.kit : undefined,
    disk: layout.disk ? { path: resolve(image.dir, layout.disk.file), format: layout.disk.format, interface: layout.disk.interface } : undefined,
  };
  return {
    image,
    kernel,
    sources,
    accel,
    accelReason: accel === detected.accel ? detected.reason : "chosen by the caller",
    memoryMb: options.memory ?? 1024,
    smp: options.smp ?? 2,
    append,
    share,
    gdb: Boolean(options.gdb),
    paused: Boolean(options.paused),
  };
}

/**
 * The QEMU plan of a decision with the given per-VM files. A pure function, so that a saved
 * state's key can be made from the same plan with placeholders for the per-VM paths.
 */
export function qemuPlanOf(decision: BootDecision, files: { runDir: string; initrd?: string; disk?: string; gdbPort?: number; incoming?: string }): QemuPlan {
  return {
    qemu: "qemu-system-x86_64",
    accel: decision.accel,
    memoryMb: decision.memoryMb,
    smp: decision.smp,
    kernel: decision.kernel.path,
    initrd: files.initrd,
    append: decision.append,
    disk: files.disk && decision.sources.disk ? { path: files.disk, format: "qcow2", interface: decision.sources.disk.interface } : undefined,
    agentSocket: join(files.runDir, "agent.sock"),
    qmpSocket: join(files.runDir, "qmp.sock"),
    gdbPort: files.gdbPort,
    paused: decision.paused,
    share: decision.share,
    incoming: files.incoming,
  };
}

/**
 * Makes the VM's run directory: its overlay (over the base disk, or over a saved state's disk
 * when resuming) and its initrd (the image's plus kbook's kit; a resume needs no kit, the
 * guest's memory already holds what booted).
 */
export async function materializeBoot(decision: BootDecision, resume?: ResumeSource): Promise<BootPlan> {
  await removeStaleRunDirs();
  const runDir = await mkdtemp(join(tmpdir(), "kbook-vm-"));
  await writeFile(join(runDir, "owner.pid"), String(process.pid));
  const { sources } = decision;
  let disk: string | undefined;
  if (sources.disk) {
    disk = join(runDir, "overlay.qcow2");
    // The VM writes only to this overlay; the base image (and a saved state) stay as they are.
    const [backing, format] = resume?.disk ? [resume.disk, "qcow2"] : [sources.disk.path, sources.disk.format];
    await runTool("qemu-img", ["create", "-q", "-f", "qcow2", "-F", format, "-b", backing, disk], { stage: "qemu-img create overlay" });
  }
  let initrd = sources.initrd;
  if (initrd && sources.kit && !resume) {
    // The image's initrd plus kbook's init and agent (see kit.ts), in the VM's run dir.
    const kit = await guestKit(sources.kit);
    const combined = join(runDir, "initrd.img");
    await writeFile(combined, Buffer.concat([await readFile(initrd), kit.cpio]));
    initrd = combined;
  }
  const gdbPort = decision.gdb ? await freeLocalPort() : undefined;
  // fd 3 is the saved state's migration stream (see launchQemu).
  const plan = qemuPlanOf(decision, { runDir, initrd, disk, gdbPort, incoming: resume ? "fd:3" : undefined });
  return { image: decision.image, kernel: decision.kernel, plan, argv: buildQemuArgv(plan), runDir, accelReason: decision.accelReason, decision, resume };
}

/** Decides the whole QEMU invocation for an image and creates the VM's run directory (a cold boot). */
export async function planBoot(options: VmOptions, progress = new ProgressReporter(options.onProgress)): Promise<BootPlan> {
  const decision = await decideBoot(options);
  progress.report("plan", `${decision.accel.toUpperCase()}: ${decision.accelReason}`);
  return materializeBoot(decision);
}

/**
 * Planning a boot: everything about a VM decided before QEMU starts — the accelerator, the
 * overlay over the read-only base disk, the initrd with kbook's guest kit, the kernel command
 * line, the gdbstub port, and once, here, which kernel boots and what describes it (symbols,
 * KASLR), so the VM, gdb and the CLI read one answer instead of working it out again.
 */
import { access, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildQemuArgv, kernelCommandLine, type QemuPlan } from "./argv.js";
import { checkKernelFile, type BootableImage } from "./image.js";
import { guestKit } from "./kit.js";
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
}

/** Everything needed to start QEMU, decided before it starts. */
export interface BootPlan {
  image: BootableImage;
  kernel: BootKernel;
  plan: QemuPlan;
  argv: string[];
  runDir: string;
  accelReason: string;
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

/** Decides the whole QEMU invocation for an image; creates the VM's run directory. */
export async function planBoot(options: VmOptions, progress = new ProgressReporter(options.onProgress)): Promise<BootPlan> {
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
  const decision = await detectAccel();
  const accel = options.accel === undefined || options.accel === "auto" ? decision.accel : options.accel;
  await removeStaleRunDirs();
  const runDir = await mkdtemp(join(tmpdir(), "kbook-vm-"));
  await writeFile(join(runDir, "owner.pid"), String(process.pid));
  let disk: QemuPlan["disk"];
  if (layout.disk) {
    const base = resolve(image.dir, layout.disk.file);
    const overlay = join(runDir, "overlay.qcow2");
    // The VM writes only to this overlay; the base image stays byte-for-byte as built.
    await runTool("qemu-img", ["create", "-q", "-f", "qcow2", "-F", layout.disk.format, "-b", base, overlay], { stage: "qemu-img create overlay" });
    disk = { path: overlay, format: "qcow2", interface: layout.disk.interface };
  }
  let initrd = options.initrd ? resolve(options.initrd) : layout.initrd ? join(image.dir, layout.initrd) : undefined;
  if (initrd && layout.kit && !options.initrd) {
    // The image's initrd plus kbook's init and agent (see kit.ts), in the VM's run dir.
    const kit = await guestKit(layout.kit);
    const combined = join(runDir, "initrd.img");
    await writeFile(combined, Buffer.concat([await readFile(initrd), kit.cpio]));
    initrd = combined;
  }
  const plan: QemuPlan = {
    qemu: "qemu-system-x86_64",
    accel,
    memoryMb: options.memory ?? 1024,
    smp: options.smp ?? 2,
    kernel: kernel.path,
    initrd,
    append,
    disk,
    agentSocket: join(runDir, "agent.sock"),
    qmpSocket: join(runDir, "qmp.sock"),
    gdbPort: options.gdb ? await freeLocalPort() : undefined,
    paused: options.paused,
    share,
  };
  progress.report("plan", `${accel.toUpperCase()}: ${accel === decision.accel ? decision.reason : "chosen by the caller"}`);
  return { image, kernel, plan, argv: buildQemuArgv(plan), runDir, accelReason: decision.reason };
}

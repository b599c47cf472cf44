/**
 * Booting a guest: plan the QEMU command line, start QEMU so that it can never outlive kbook,
 * wait for the guest agent, and explain every way a boot can fail (QEMU error, kernel panic,
 * timeout) with the evidence: QEMU's stderr or the last console lines.
 */
import { execa, type ResultPromise } from "execa";
import { mkdtemp, rm, access, readFile, readdir, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import { createServer, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildQemuArgv, kernelCommandLine, type QemuPlan } from "./argv.js";
import { ConsoleMonitor } from "./console.js";
import { resolveImage, checkKernelFile, type ImageRef, type BootableImage } from "./image-ref.js";
import { Vm } from "./vm.js";
import { guestKit } from "../images/kit.js";
import { isAlive } from "../system/process.js";
import { AgentClient } from "../agent/index.js";
import { detectAccel } from "../system/accel.js";
import { runTool } from "../system/run.js";
import { KbookError, ToolError, UsageError, tail } from "../errors/index.js";
import { ProgressReporter, type ProgressListener, formatDuration } from "../progress/index.js";

export interface BootOptions {
  /** "debian" (default), "busybox", a cache key, an image directory, or a recipe object. */
  image?: ImageRef;
  /** Your own kernel (bzImage or vmlinux) instead of the image's, like the article's `-kernel`. */
  kernel?: string;
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
  plan: QemuPlan;
  argv: string[];
  runDir: string;
  accelReason: string;
  /** True when the user passed their own kernel (the image's symbols then do not apply). */
  userKernel: boolean;
}

const live = new Set<{ pid?: number; runDir: string }>();
process.on("exit", () => {
  // Synchronous last resort on a normal exit; a killed parent is covered by PR_SET_PDEATHSIG.
  for (const entry of live) {
    if (entry.pid) {
      try {
        process.kill(entry.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    rmSync(entry.runDir, { recursive: true, force: true });
  }
});

/**
 * Run directories of VMs whose kbook process died without cleaning up (SIGKILL, a crash): their
 * QEMU died with it (PR_SET_PDEATHSIG), so only the directory is left to remove.
 */
async function removeStaleRunDirs(): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith("kbook-vm-")) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, "owner.pid"), "utf8").catch(() => "0"));
    if (owner && !isAlive(owner)) await rm(dir, { recursive: true, force: true });
  }
}

/** True when something listens on 127.0.0.1:port, from /proc/net/tcp (state 0A = LISTEN). Pure. */
export function listensOn(procNetTcp: string, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return procNetTcp.split("\n").some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1] === `0100007F:${hexPort}` && f[3] === "0A";
  });
}

async function waitForListen(port: number, deadline: number, alive: () => boolean): Promise<void> {
  while (alive() && Date.now() < deadline) {
    if (listensOn(await readFile("/proc/net/tcp", "utf8").catch(() => ""), port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A free TCP port on 127.0.0.1 (bound and released; QEMU binds it right after). */
export async function freeLocalPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Resolves the image and decides the whole QEMU invocation; creates the VM's run directory. */
export async function planBoot(options: BootOptions, progress = new ProgressReporter(options.onProgress)): Promise<BootPlan> {
  if (options.paused && !options.gdb) throw new UsageError("paused: true needs gdb: true (only a debugger can let the CPUs run).");
  for (const [name, v, min, max] of [["memory", options.memory, 128, 65536], ["smp", options.smp, 1, 64]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got ${v}.`);
  }
  if (options.kernel) await checkKernelFile(resolve(options.kernel));
  if (options.initrd) await access(resolve(options.initrd)).catch(() => {
    throw new UsageError(`initrd ${options.initrd} does not exist or is not readable.`);
  });
  let share: QemuPlan["share"];
  if (options.share) {
    const s = typeof options.share === "string" ? { path: options.share } : options.share;
    await access(resolve(s.path)).catch(() => {
      throw new UsageError(`Shared folder ${s.path} does not exist.`);
    });
    share = { path: resolve(s.path), tag: "kbookshare", readonly: s.readonly };
  }
  const image = await resolveImage(options.image, options.onProgress, options.signal);
  const layout = image.layout;
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
  const kernel = options.kernel ? resolve(options.kernel) : join(image.dir, layout.vmlinux ?? layout.kernel);
  let initrd = options.initrd ? resolve(options.initrd) : layout.initrd ? join(image.dir, layout.initrd) : undefined;
  if (initrd && layout.kit && !options.initrd) {
    // The image's initrd plus kbook's init and agent (see images/kit.ts), in the VM's run dir.
    const kit = await guestKit(layout.kit);
    const combined = join(runDir, "initrd.img");
    await writeFile(combined, Buffer.concat([await readFile(initrd), kit.cpio]));
    initrd = combined;
  }
  const extra = share ? [`kbook.share=${share.tag}`] : [];
  const plan: QemuPlan = {
    qemu: "qemu-system-x86_64",
    accel,
    memoryMb: options.memory ?? 1024,
    smp: options.smp ?? 2,
    kernel,
    initrd,
    append: kernelCommandLine(layout.append, options.append, extra).replace(options.verbose ? / quiet(?= )/ : /$^/, ""),
    disk,
    agentSocket: join(runDir, "agent.sock"),
    qmpSocket: join(runDir, "qmp.sock"),
    gdbPort: options.gdb ? await freeLocalPort() : undefined,
    paused: options.paused,
    share,
  };
  progress.report("plan", `${accel.toUpperCase()}: ${accel === decision.accel ? decision.reason : "chosen by the caller"}`);
  return { image, plan, argv: buildQemuArgv(plan), runDir, accelReason: decision.reason, userKernel: Boolean(options.kernel) };
}

/**
 * The argv that starts QEMU so it dies with its parent: PR_SET_PDEATHSIG (through util-linux's
 * setpriv) makes the kernel send SIGKILL to QEMU when kbook's process ends in any way, even by
 * SIGKILL, when no JavaScript cleanup can run.
 */
export function supervisedArgv(argv: readonly string[]): [string, string[]] {
  return ["setpriv", ["--pdeathsig", "KILL", "--", ...argv]];
}

async function connectUnix(path: string, deadline: number, alive: () => boolean): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((ok, fail) => {
        const s = connect(path);
        s.once("connect", () => ok(s));
        s.once("error", fail);
      });
    } catch (error) {
      if (!alive() || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Boots a VM and waits until its agent answers (unless paused for a debugger). */
export async function bootVm(options: BootOptions = {}): Promise<Vm> {
  options.signal?.throwIfAborted();
  const progress = new ProgressReporter(options.onProgress);
  const boot = await planBoot(options, progress);
  const { plan, argv, runDir } = boot;
  const consoleMonitor = new ConsoleMonitor();
  const [file, args] = supervisedArgv(argv);
  const started = Date.now();
  progress.report("boot", `starting QEMU (${plan.accel})`);
  let child: ResultPromise<{ stdin: "pipe"; stdout: "pipe"; stderr: "pipe"; reject: false; buffer: false }>;
  try {
    child = execa(file, args, { stdin: "pipe", stdout: "pipe", stderr: "pipe", reject: false, buffer: false });
  } catch (error) {
    await rm(runDir, { recursive: true, force: true });
    throw new ToolError("qemu", `Could not start QEMU: ${(error as Error).message}`, { hint: "Run 'kbook doctor --install'." });
  }
  const entry = { pid: child.pid, runDir };
  live.add(entry);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  child.stdout.on("data", (d: Buffer) => {
    consoleMonitor.feed(d);
    options.onConsole?.(d);
  });
  let exited: { code: number | null; signal: string | null } | undefined;
  const exitPromise = new Promise<{ code: number | null; signal: string | null }>((ok) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      ok(exited);
    });
  });
  void child.catch(() => undefined);

  const cleanup = async () => {
    live.delete(entry);
    await rm(runDir, { recursive: true, force: true });
  };
  const failure = (message: string, detail: string, hint?: string) => new KbookError(message, { detail, hint });

  const vm = new Vm({ boot, child, exitPromise, consoleMonitor, started, cleanup, stderr: () => stderr, exited: () => exited });
  const timeoutMs = options.bootTimeoutMs ?? 120_000;
  try {
    const socket = await connectUnix(plan.agentSocket, started + 10_000, () => !exited);
    const agent = new AgentClient(socket, { describeStall: () => vm.stoppedReason });
    vm.attachAgent(agent);
    if (plan.paused) {
      // Not by connecting to it: any gdbstub connection halts the guest.
      await waitForListen(plan.gdbPort!, started + 10_000, () => !exited);
      progress.report("paused", `CPUs held at reset; gdbstub on 127.0.0.1:${plan.gdbPort}`, { done: true });
      void vm.whenReady(timeoutMs * 10).catch(() => undefined);
      return vm;
    }
    progress.report("boot", "waiting for the guest agent");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      vm.whenReady(timeoutMs + 5000),
      new Promise((_, fail) => (timer = setTimeout(() => fail(new Error("timeout")), timeoutMs))),
      exitPromise.then(() => {
        throw new Error("exit");
      }),
      new Promise((_, fail) => consoleMonitor.onPanic(() => fail(new Error("panic")))),
      new Promise((_, fail) => {
        if (options.signal?.aborted) fail(new Error("abort"));
        options.signal?.addEventListener("abort", () => fail(new Error("abort")), { once: true });
      }),
    ]).catch(async (error: Error) => {
      // A panic is seen as its line starts printing: give the rest of it a moment to arrive.
      if (consoleMonitor.panic) await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 1000))]);
      const panic = consoleMonitor.panic;
      if (panic) throw failure(`The guest kernel panicked during boot: ${panic.reason}`, panic.text);
      if (exited) {
        throw new ToolError("qemu", `QEMU exited during boot (${exited.code !== null ? `code ${exited.code}` : exited.signal}).`, {
          stderrTail: [tail(stderr, 20), "console:", consoleMonitor.lastLines(40)].filter(Boolean).join("\n"),
        });
      }
      if (error.message === "abort") throw new KbookError("Boot interrupted.");
      if (error.message === "timeout") {
        throw failure(
          `The guest did not come up within ${formatDuration(timeoutMs)}. Last console lines:`,
          consoleMonitor.lastLines(40) || "(the guest printed nothing on its console yet)",
          "Check the kernel command line (root=, console=ttyS0) and that the kernel has the modules the image needs.",
        );
      }
      throw error;
    }).finally(() => clearTimeout(timer));
    vm.bootMs = Date.now() - started;
    progress.report("ready", `guest up in ${formatDuration(vm.bootMs)} (kernel ${vm.info.kernelRelease})`, { done: true });
    return vm;
  } catch (error) {
    await vm.kill();
    throw error;
  }
}

/**
 * A running guest: the command channel (through the agent), facts about the guest, and a
 * shutdown that always ends with QEMU gone and its run directory removed.
 */
import type { AgentClient } from "../agent/index.js";
import type { Guest, GuestExecOptions, GuestExecResult, GuestInfo } from "../guest/index.js";
import type { BootPlan, BootKernel } from "./plan.js";
import type { QemuProcess } from "./qemu-process.js";
import type { SavedState } from "./saved-state.js";
import { formatCommandLine } from "./argv.js";
import { GuestPanicError, VmNotRunningError } from "./errors.js";
import { QmpClient } from "./qmp.js";
import { KbookError } from "../errors/index.js";
import { escapeHtml } from "../viz/escape.js";
import { JUPYTER_DISPLAY } from "../viz/mime.js";
import { formatDuration } from "../progress/index.js";
import { recordPerf, type PerfRecordOptions, type Profile } from "../perf/index.js";
import { bpftrace, listProbes, type BpftraceResult, type BpftraceRunOptions, type ProbeList } from "../bpftrace/index.js";
import { connectGdb, type GdbSession, type GdbTarget } from "../gdb/index.js";

interface VmParts {
  boot: BootPlan;
  qemu: QemuProcess;
  started: number;
  /** The saved state this VM was resumed from, when it was. */
  resumedFrom?: SavedState;
}

/** What gdb needs to know of a booted kernel to load the best symbols for it. */
export function gdbTargetOf(kernel: BootKernel): Omit<GdbTarget, "port"> {
  return {
    kernelPath: kernel.path,
    kallsymsPath: kernel.kallsymsPath,
    vmlinux: kernel.vmlinux,
    sourceDir: kernel.sourceDir,
    gdbScriptsDir: kernel.gdbScriptsDir,
    // Debian's -dbg package is looked up by the release of the image's own kernel only.
    kernelRelease: kernel.own ? undefined : kernel.release,
    nokaslr: kernel.nokaslr,
  };
}

export class Vm implements Guest {
  /** Milliseconds from spawning QEMU to the agent's first answer. */
  bootMs = 0;
  /** Set while a debugger holds the guest's CPUs; guest calls then fail with this reason. */
  stoppedReason: string | null = null;
  private agent?: AgentClient;
  private ready?: Promise<void>;
  private guestInfo?: GuestInfo;
  private shuttingDown?: Promise<void>;

  constructor(private readonly parts: VmParts) {}

  /** @internal */
  attachAgent(agent: AgentClient): void {
    this.agent = agent;
  }

  /** @internal The VM's parts, for saving it (resume.ts). */
  internals(): Readonly<VmParts> {
    return this.parts;
  }

  /** @internal The agent channel, for what only the VM layer sends (resume.ts). */
  agentChannel(): AgentClient {
    return this.channel();
  }

  /**
   * How this VM came up: `resumed` from a saved state (its key and directory), or a `cold`
   * boot from the first instruction.
   */
  get startedFrom(): { kind: "cold" } | { kind: "resumed"; key: string; dir: string } {
    const state = this.parts.resumedFrom;
    return state ? { kind: "resumed", key: state.manifest.key, dir: state.dir } : { kind: "cold" };
  }

  /** The saved state's key a later boot of the same configuration resumes from (if saved). */
  savedStateKey?: string;

  /** Resolves when the agent has said hello (immediately after a normal boot). */
  whenReady(timeoutMs = 120_000): Promise<void> {
    this.ready ??= (async () => {
      const hello = await this.agent!.waitReady({ timeoutMs });
      const { image, kernel } = this.parts.boot;
      this.guestInfo = {
        kernelRelease: hello.kernelRelease,
        recipe: image.kind,
        imageDir: image.dir,
        kallsymsPath: kernel.kallsymsPath,
        kernelPath: kernel.path,
        nokaslr: kernel.nokaslr,
      };
    })();
    return this.ready;
  }

  get info(): GuestInfo {
    if (!this.guestInfo) throw new KbookError("The guest is not up yet.", { hint: "Await vm.whenReady() (a paused VM runs once gdb continues it)." });
    return this.guestInfo;
  }

  /** Which kernel booted and what describes it (symbols, sources, KASLR). */
  get kernel(): BootKernel {
    return this.parts.boot.kernel;
  }

  /** The exact QEMU argv. */
  get qemuArgv(): readonly string[] {
    return this.parts.boot.argv;
  }

  /** The QEMU command line as a shell would show it. */
  get commandLine(): string {
    return formatCommandLine(this.parts.boot.argv);
  }

  /** The kernel command line the guest booted with. */
  get kernelCommandLine(): string {
    return this.parts.boot.plan.append;
  }

  get accel(): { accel: string; reason: string } {
    return { accel: this.parts.boot.plan.accel, reason: this.parts.boot.accelReason };
  }

  /** The gdbstub's TCP port on 127.0.0.1, when booted with gdb. */
  get gdbPort(): number | undefined {
    return this.parts.boot.plan.gdbPort;
  }

  get pid(): number | undefined {
    return this.parts.qemu.child.pid;
  }

  get running(): boolean {
    return !this.parts.qemu.exited();
  }

  /** The last console lines (boot messages, panics). */
  consoleTail(lines = 40): string {
    return this.parts.qemu.console.lastLines(lines);
  }

  private channel(): AgentClient {
    const exit = this.parts.qemu.exited();
    if (exit || !this.agent) {
      const panic = this.parts.qemu.console.panic;
      throw panic ? new GuestPanicError(panic.reason, panic.text) : new VmNotRunningError();
    }
    return this.agent;
  }

  /** Rewrites a channel failure caused by a panic into an error that says so. */
  private async explain(error: unknown): Promise<never> {
    // The panic is seen as its line starts printing: let the rest of it (and QEMU's exit) arrive.
    if (this.parts.qemu.console.panic) await this.waitExit(1000);
    const panic = this.parts.qemu.console.panic;
    if (panic) throw new GuestPanicError(panic.reason, panic.text, { cause: error });
    throw error;
  }

  // Async, so that a VM that is gone rejects the promise (as every other failure does) instead
  // of throwing before there is one.
  async exec(command: readonly string[] | string, options?: GuestExecOptions): Promise<GuestExecResult> {
    return this.channel().exec(command, options).catch((e) => this.explain(e));
  }

  async copyIn(source: string | Uint8Array, guestPath: string, options?: { mode?: number }): Promise<void> {
    return this.channel().copyIn(source, guestPath, options).catch((e) => this.explain(e));
  }

  async copyOut(guestPath: string, hostPath?: string): Promise<Uint8Array> {
    return this.channel().copyOut(guestPath, hostPath).catch((e) => this.explain(e));
  }

  /** perf in the guest: `await vm.perf.record({ command: "dd if=/dev/zero of=/tmp/t bs=1M count=100" })`. */
  readonly perf = {
    record: (options?: PerfRecordOptions): Promise<Profile> => recordPerf(this, options),
  };

  /**
   * Runs a bpftrace program in the guest: `vm.bpftrace(program, { duration: "5s" })`, or as a
   * tagged template: vm.bpftrace`kprobe:task_tick_fair { @[kstack] = count(); }`.
   */
  bpftrace(program: string, options?: BpftraceRunOptions): Promise<BpftraceResult>;
  bpftrace(strings: TemplateStringsArray, ...values: unknown[]): Promise<BpftraceResult>;
  bpftrace(program: string | TemplateStringsArray, ...rest: unknown[]): Promise<BpftraceResult> {
    return bpftrace(this, program, ...rest);
  }

  /** Lists the guest kernel's probes (`bpftrace -l PATTERN`). */
  probes(pattern?: string, options?: { signal?: AbortSignal }): Promise<ProbeList> {
    return listProbes(this, pattern, options);
  }

  private gdbSession?: Promise<GdbSession>;
  private closingGdb = false;
  /**
   * The VM's gdb session through its gdbstub (boot with `gdb: true`), with the best symbols
   * available. While gdb holds the CPUs, guest calls fail with a message saying so.
   */
  gdb(options: Omit<GdbTarget, "port" | "kernelPath"> = {}): Promise<GdbSession> {
    const port = this.gdbPort;
    if (port === undefined) {
      return Promise.reject(new KbookError("This VM has no gdbstub.", { hint: "Boot it with bootVm({ gdb: true }) (paused: true to stop at the first instruction)." }));
    }
    this.gdbSession ??= (async () => {
      const session = await connectGdb({ port, ...gdbTargetOf(this.kernel), ...options });
      const sync = () => {
        if (session.state === "closed" && !this.closingGdb) {
          // gdb died while attached: QEMU keeps the CPUs halted until told otherwise.
          void this.qmp().then((q) => q.execute("cont")).catch(() => undefined);
          this.gdbSession = undefined;
        }
        const reason = session.stoppedReason;
        this.stoppedReason = reason === null ? null : `the guest is stopped in gdb (${reason}); continue it with g.continue() or %%gdb continue`;
      };
      session.onStateChange(sync);
      sync();
      return session;
    })();
    this.gdbSession.catch(() => (this.gdbSession = undefined));
    return this.gdbSession;
  }

  /** QMP, connected on first use. */
  private qmpClient?: Promise<QmpClient>;
  qmp(): Promise<QmpClient> {
    this.qmpClient ??= QmpClient.connect(this.parts.boot.plan.qmpSocket);
    return this.qmpClient;
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (this.parts.qemu.exited()) return true;
    return Promise.race([this.parts.qemu.exitPromise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  }

  /**
   * Graceful poweroff through the agent, then QMP `quit`, then SIGKILL: each step only if the
   * one before did not end QEMU in time. Idempotent.
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      // Let the CPUs run again first, or the graceful poweroff cannot happen.
      if (this.gdbSession) {
        this.closingGdb = true;
        await this.gdbSession.then((g) => g.close()).catch(() => undefined);
        this.stoppedReason = null;
      }
      if (!this.parts.qemu.exited() && this.agent && this.guestInfo && !this.stoppedReason) {
        // sync first: the overlay is thrown away, but a shared 9p folder is not.
        void this.agent.exec(["/bin/sh", "-c", "sync; echo o > /proc/sysrq-trigger"], { reject: false, timeoutMs: 5000 }).catch(() => undefined);
        // A kernel with ACPI turns the machine off and QEMU exits; one without stops after
        // printing "Power down": then QMP's quit below ends QEMU at once instead of after 5 s.
        await Promise.race([this.waitExit(5000), this.parts.qemu.console.whenPoweredOff()]);
      }
      if (!this.parts.qemu.exited()) {
        try {
          const qmp = await Promise.race([this.qmp(), new Promise<never>((_, f) => setTimeout(() => f(new Error("qmp timeout")), 2000).unref())]);
          await qmp.execute("quit").catch(() => undefined);
        } catch {
          /* fall through to kill */
        }
        await this.waitExit(3000);
      }
      await this.kill();
    })();
    return this.shuttingDown;
  }

  /** Ends QEMU at once (SIGKILL) and removes the run directory. */
  async kill(): Promise<void> {
    if (!this.parts.qemu.exited()) {
      this.parts.qemu.child.kill("SIGKILL");
      await this.waitExit(5000);
    }
    this.agent?.close();
    void this.qmpClient?.then((q) => q.close()).catch(() => undefined);
    await this.parts.qemu.cleanup();
  }

  /** Notebook display: what is running and how it was started. */
  [JUPYTER_DISPLAY](): Record<string, string> {
    const how = this.parts.resumedFrom ? "resumed" : "up";
    const state = this.parts.qemu.exited() ? "stopped" : this.guestInfo ? `running, ${how} in ${formatDuration(this.bootMs)}` : "starting";
    const { boot } = this.parts;
    const text = [
      `VM (${boot.image.kind}, ${boot.plan.accel.toUpperCase()}, ${state})`,
      `kernel: ${this.guestInfo?.kernelRelease ?? boot.plan.kernel}`,
      `append: ${boot.plan.append}`,
      ...(boot.plan.gdbPort ? [`gdbstub: 127.0.0.1:${boot.plan.gdbPort}`] : []),
      `qemu: ${this.commandLine}`,
    ].join("\n");
    const html =
      `<div class="kbook-vm"><b>VM</b> ${escapeHtml(boot.image.kind)} · ${escapeHtml(boot.plan.accel.toUpperCase())} · ${escapeHtml(state)}` +
      `<br><small>${escapeHtml(boot.accelReason)}</small><pre style="white-space:pre-wrap">${escapeHtml(this.commandLine)}</pre></div>`;
    return { "text/plain": text, "text/html": html };
  }
}

/**
 * A running guest: the command channel (through the agent), facts about the guest, and a
 * shutdown that always ends with QEMU gone and its run directory removed.
 */
import { AgentUnresponsiveError, type AgentClient, type AgentClientOptions } from "../agent/index.js";
import type { Guest, GuestExecOptions, GuestExecResult, GuestInfo } from "../guest/index.js";
import type { BootPlan, BootKernel } from "./plan.js";
import type { QemuProcess } from "./qemu-process.js";
import type { SavedState } from "./saved-state.js";
import { formatCommandLine } from "./argv.js";
import { GuestDiskFullError, GuestOutOfMemoryError, GuestPanicError, VmNotRunningError } from "./errors.js";
import { GuestCommandError } from "../agent/index.js";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { QmpClient } from "./qmp.js";
import { KbookError } from "../errors/index.js";
import { renderVmDisplay } from "./display.js";
import { JUPYTER_DISPLAY } from "../viz/mime.js";
import { formatBytes, formatDuration } from "../progress/index.js";
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

  /** @internal The agent client's options for this VM: what to say when it stalls or hangs. */
  agentOptions(): AgentClientOptions {
    return {
      describeStall: () => this.stoppedReason,
      describeUnresponsive: () => `Last console lines:\n${this.parts.qemu.console.lastLines(15)}`,
    };
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

  /**
   * What the VM holds right now: the agent's commands (running, waiting for a turn beyond the
   * agent's limit) and the OOM kills its console has shown.
   */
  stats(): { agent: { running: number; queued: number; limit: number }; oomKills: number } {
    return {
      agent: this.agent?.stats() ?? { running: 0, queued: 0, limit: 0 },
      oomKills: this.parts.qemu.console.oomCount,
    };
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

  /**
   * Rewrites a channel failure caused by a panic into an error that says so, and one of a guest
   * that stopped answering into one that says whether QEMU has it paused.
   */
  private async explain(error: unknown): Promise<never> {
    // The panic is seen as its line starts printing: let the rest of it (and QEMU's exit) arrive.
    if (this.parts.qemu.console.panic) await this.waitExit(1000);
    const panic = this.parts.qemu.console.panic;
    if (panic) throw new GuestPanicError(panic.reason, panic.text, { cause: error });
    if (error instanceof AgentUnresponsiveError && !this.parts.qemu.exited()) {
      const status = await Promise.race([
        this.qmp().then((q) => q.execute("query-status") as Promise<{ status: string }>),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000).unref()),
      ]).catch(() => undefined);
      if (status && status.status !== "running") {
        throw new AgentUnresponsiveError(`${error.message.split(".")[0]}: QEMU has the VM ${status.status} (QMP query-status).`, {
          hint: "Let it run again with (await vm.qmp()).execute(\"cont\"), or shut it down.",
          cause: error,
        });
      }
    }
    throw error;
  }

  // Async, so that a VM that is gone rejects the promise (as every other failure does) instead
  // of throwing before there is one.
  async exec(command: readonly string[] | string, options?: GuestExecOptions): Promise<GuestExecResult> {
    const oomBefore = this.parts.qemu.console.oomCount;
    return this.channel().exec(command, options).catch(async (e) => this.explain(await this.explainFailure(e, oomBefore)));
  }

  async copyIn(source: string | Uint8Array, guestPath: string, options?: { mode?: number }): Promise<void> {
    const oomBefore = this.parts.qemu.console.oomCount;
    return this.channel().copyIn(source, guestPath, options).catch(async (e) => this.explain(await this.explainFailure(e, oomBefore)));
  }

  /**
   * A failed command that the guest's OOM killer ended, or that met a full filesystem, becomes
   * an error that says so and how to give the VM more room; anything else passes through.
   */
  private async explainFailure(error: unknown, oomBefore: number): Promise<unknown> {
    if (!(error instanceof GuestCommandError)) return error;
    const { result } = error;
    const killed = result.signal === "SIGKILL" || result.exitCode === 137;
    if (killed && !result.timedOut && !result.interrupted) {
      // The console line may come a moment after the exit (another channel).
      const kills = await this.parts.qemu.console.oomKillsSince(oomBefore, 500);
      if (kills.length) return new GuestOutOfMemoryError(error, kills, this.parts.boot.plan.memoryMb);
    }
    if (/No space left on device/.test(result.stderr)) return new GuestDiskFullError(error, await this.diskFullHint());
    return error;
  }

  private async diskFullHint(): Promise<string> {
    const { image, plan } = this.parts.boot;
    if (!image.layout.disk) {
      return `This guest's root is an initramfs in its ${plan.memoryMb} MiB of memory: boot with more (memory: ${plan.memoryMb * 2}), or use an image with a disk.`;
    }
    const base = await stat(join(image.dir, image.layout.disk.file)).catch(() => undefined);
    const size = base && image.layout.disk.format === "raw" ? `${formatBytes(base.size)} ` : "";
    return (
      `The guest's root filesystem is the image's ${size}disk (writes go to this VM's throwaway overlay). ` +
      "For more room, build an image with a bigger disk, e.g. `kbook image build debian --disk-size 8G` (recipe { kind: \"debian\", diskSize: \"8G\" }), and boot that; or write to a shared folder (share: DIR)."
    );
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
      // A guest that stopped answering cannot power itself off: straight to QMP then.
      if (!this.parts.qemu.exited() && this.agent && this.guestInfo && !this.stoppedReason && !this.agent.silent) {
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
    return renderVmDisplay({
      kind: boot.image.kind,
      accel: boot.plan.accel,
      accelReason: boot.accelReason,
      state,
      kernel: this.guestInfo?.kernelRelease ?? boot.plan.kernel,
      append: boot.plan.append,
      gdbPort: boot.plan.gdbPort,
      commandLine: this.commandLine,
    });
  }
}

/**
 * Reading the guest's serial console: keep the last lines for error reports, and recognise a
 * kernel panic the moment it is printed rather than after a boot timeout.
 */
export interface PanicReport {
  /** The panic line's reason, e.g. "sysrq triggered crash". */
  reason: string;
  /** The console lines around the panic. */
  text: string;
}

const PANIC = /Kernel panic - not syncing: ?(.*)$/;
/**
 * What the kernel prints as its last words of a poweroff or halt. A kernel without ACPI cannot
 * turn the machine off: it stops there, and QEMU keeps running until it is told to quit.
 */
const POWERED_OFF = /reboot: (Power down|System halted)/;

/** The kernel's line for each process its OOM killer ends (pr_err, so shown even with `quiet`). */
const OOM_KILL = /(?:Memory cgroup )?[Oo]ut of memory: Killed process (\d+) \(([^)]*)\)/;

/** A process the guest's OOM killer ended, as its console said. */
export interface OomKill {
  pid: number;
  command: string;
  /** Its number among all OOM kills this console saw (1, 2, …). */
  seq: number;
}

export class ConsoleMonitor {
  /** OOM kills seen, newest last (the last 20). */
  private readonly oomKills: OomKill[] = [];
  private oomSeen = 0;
  private readonly oomListeners = new Set<() => void>();

  /** How many OOM kills the console has shown so far. */
  get oomCount(): number {
    return this.oomSeen;
  }

  /** The OOM kills after the `since`-th, waiting up to `waitMs` for the first (console lines lag a little). */
  async oomKillsSince(since: number, waitMs = 0): Promise<OomKill[]> {
    if (this.oomSeen <= since && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => (clearTimeout(timer), this.oomListeners.delete(done), resolve());
        const timer = setTimeout(done, waitMs);
        this.oomListeners.add(done);
      });
    }
    return this.oomKills.filter((k) => k.seq > since);
  }

  private readonly lines: string[] = [];
  private partial = "";
  private panicReason: string | undefined;
  /** The reason came from a line still being printed; the complete line replaces it. */
  private panicProvisional = false;
  private panicLine = -1;
  private readonly listeners: ((panic: PanicReport) => void)[] = [];
  private poweredOff = false;
  private readonly powerOffListeners: (() => void)[] = [];

  constructor(private readonly keep = 400) {}

  /** Feeds console bytes as they arrive. */
  feed(chunk: string | Uint8Array): void {
    const text = this.partial + (typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? "";
    for (const raw of parts) this.push(raw.replace(/\r/g, ""));
    // A panic line may sit without its newline while the guest dies: report it at once from the
    // partial line, and take the reason again when the line is complete.
    const m = this.panicReason === undefined ? PANIC.exec(this.partial) : null;
    if (m) {
      this.panicReason = m[1]!.trim();
      this.panicProvisional = true;
      this.panicLine = this.lines.length;
      this.notify();
    }
  }

  private notify(): void {
    const report = this.panic!;
    for (const l of this.listeners) l(report);
  }

  private push(line: string): void {
    this.lines.push(line);
    const oom = OOM_KILL.exec(line);
    if (oom) {
      this.oomKills.push({ pid: Number(oom[1]), command: oom[2]!, seq: ++this.oomSeen });
      if (this.oomKills.length > 20) this.oomKills.shift();
      for (const l of [...this.oomListeners]) l();
    }
    if (!this.poweredOff && POWERED_OFF.test(line)) {
      this.poweredOff = true;
      for (const l of this.powerOffListeners.splice(0)) l();
    }
    if (this.lines.length > this.keep) {
      this.lines.shift();
      this.panicLine--;
    }
    const m = PANIC.exec(line);
    if (m && (this.panicReason === undefined || this.panicProvisional)) {
      const first = this.panicReason === undefined;
      this.panicReason = m[1]!.trim();
      this.panicProvisional = false;
      this.panicLine = this.lines.length - 1;
      if (first) this.notify();
    }
  }

  /**
   * Lines printed before this QEMU existed (the boot log of a resumed guest's saved state):
   * kept for `lastLines`, not watched for panics or power-off, which belong to that past boot.
   */
  restore(text: string): void {
    const lines = text.split("\n");
    this.lines.unshift(...lines.slice(-this.keep));
    this.lines.splice(0, Math.max(0, this.lines.length - this.keep));
  }

  /** Resolves once the kernel has printed that it powered off or halted. */
  whenPoweredOff(): Promise<void> {
    return this.poweredOff ? Promise.resolve() : new Promise((resolve) => this.powerOffListeners.push(resolve));
  }

  /** Registers a callback for the first panic. */
  onPanic(listener: (panic: PanicReport) => void): void {
    this.listeners.push(listener);
    if (this.panic) listener(this.panic);
  }

  get panic(): PanicReport | undefined {
    if (this.panicReason === undefined) return undefined;
    const from = Math.max(0, this.panicLine - 30);
    const lines = this.lines.slice(from, this.panicLine + 10);
    if (this.panicProvisional && this.partial) lines.push(this.partial);
    return { reason: this.panicReason, text: lines.join("\n") };
  }

  /** The last `n` console lines (including an unterminated one). */
  lastLines(n = 40): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n).join("\n");
  }
}

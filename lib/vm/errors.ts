/**
 * The ways a VM fails, as types a caller can tell apart (`catch (e) { if (e instanceof
 * GuestPanicError) … }`): a kernel panic, a boot that never reached the agent, QEMU ending on its
 * own, an interrupted boot, and calls on a VM that is gone. Each keeps its evidence as fields.
 */
import { KbookError, ToolError } from "../errors/index.js";
import type { GuestCommandError } from "../agent/index.js";
import type { GuestExecResult } from "../guest/index.js";

/** The guest kernel panicked (during boot or later); `panicText` has the console lines around it. */
export class GuestPanicError extends KbookError {
  readonly reason: string;
  readonly panicText: string;
  constructor(reason: string, panicText: string, options: { during?: "boot"; cause?: unknown } = {}) {
    super(`The guest kernel panicked${options.during === "boot" ? " during boot" : ""}: ${reason}`, {
      detail: panicText,
      hint: "Read the console lines above; boot a new VM with bootVm() to go on.",
      cause: options.cause,
    });
    this.reason = reason;
    this.panicText = panicText;
  }
}

/** The guest did not reach kbook's agent in time. `consoleTail` is what it printed last. */
export class BootTimeoutError extends KbookError {
  readonly timeoutMs: number;
  readonly consoleTail: string;
  constructor(message: string, timeoutMs: number, consoleTail: string, hint: string) {
    super(message, { detail: consoleTail || "(the guest printed nothing on its console yet)", hint });
    this.timeoutMs = timeoutMs;
    this.consoleTail = consoleTail;
  }
}

/** QEMU ended while kbook still needed it (a bad option, a missing file, a crash). */
export class QemuExitedError extends ToolError {
  readonly signal: string | null;
  constructor(message: string, exit: { code: number | null; signal: string | null }, evidence: string) {
    super("qemu", message, { exitCode: exit.code ?? undefined, stderrTail: evidence });
    this.signal = exit.signal;
  }
}

/** The boot was cancelled through its AbortSignal; nothing of it is left running. */
export class BootInterruptedError extends KbookError {
  constructor() {
    super("Boot interrupted.");
  }
}

/** A call on a VM that is no longer running (shut down, killed, or its QEMU gone). */
export class VmNotRunningError extends KbookError {
  constructor() {
    super("The VM is not running.", { hint: "Boot a new VM with bootVm()." });
  }
}

/** A guest command ended because the guest ran out of memory and its OOM killer chose a process. */
export class GuestOutOfMemoryError extends KbookError {
  readonly result: GuestExecResult;
  constructor(
    failure: GuestCommandError,
    readonly killed: { pid: number; command: string }[],
    memoryMb: number,
  ) {
    const victims = killed.map((k) => `${k.command} (pid ${k.pid})`).join(", ");
    super(`${failure.message} The guest ran out of memory: its OOM killer killed ${victims}.`, {
      detail: failure.detail,
      hint: `The VM has ${memoryMb} MiB; boot it with more, e.g. bootVm({ memory: ${Math.min(65536, memoryMb * 2)} }) or --memory ${Math.min(65536, memoryMb * 2)}. The VM itself still answers.`,
      cause: failure,
    });
    this.result = failure.result;
  }
}

/** A guest command failed because a guest filesystem is full. */
export class GuestDiskFullError extends KbookError {
  readonly result: GuestExecResult;
  constructor(failure: GuestCommandError, hint: string) {
    super(`${failure.message} A guest filesystem is full ("No space left on device").`, { detail: failure.detail, hint, cause: failure });
    this.result = failure.result;
  }
}

/**
 * One command running in the guest, from the host's side: sends its request and stdin, collects
 * its output, stops it on timeout or abort (SIGINT, then SIGKILL after a grace period), and
 * settles with a GuestExecResult or an error. The channel (client.ts) routes frames to it.
 */
import type { GuestExecOptions, GuestExecResult } from "../guest/index.js";
import { AgentError, GuestCommandError, describeCommand } from "./errors.js";
import {
  FrameType,
  decodeExit,
  decodeU32,
  encodeU32,
  signalName,
  signalNumber,
  type Frame,
} from "./protocol.js";

/** What a running command needs from the channel. */
export interface CommandChannel {
  /** Queues a frame; false when the stream wants the writer to wait for `whenWritable`. */
  send(type: number, id: number, payload?: Uint8Array): boolean;
  /** Resolves when the stream drains or closes. */
  whenWritable(): Promise<void>;
  /** Why the guest cannot answer right now (e.g. stopped in gdb), or null. */
  stallReason(): string | null;
  /** The command is over: stop routing its frames (and drop it from the queue if it waits there). */
  forget(id: number): void;
  /** Where the command waits while the agent runs as many as it can: for error messages. */
  queueState(): { running: number; queued: number; limit: number };
}

/** Well under MAX_PAYLOAD; matches the agent's output chunks. */
const STDIN_CHUNK = 64 * 1024;
/** Unacknowledged stdin bytes allowed per command, so the agent's buffering stays bounded. */
const STDIN_WINDOW = 1024 * 1024;
/** While a stopped command has not exited, SIGINT is sent again this often until SIGKILL. */
const SIGINT_REPEAT_MS = 2000;

/** After SIGKILL, how long the guest has to report the exit before the call gives up. */
const UNRESPONSIVE_AFTER_KILL_MS = 5000;
const DEFAULT_KILL_GRACE_MS = 3000;

export class CommandRun {
  readonly promise: Promise<GuestExecResult>;
  private resolve!: (result: GuestExecResult) => void;
  private reject!: (error: Error) => void;
  private settled = false;
  private finished = false;
  private readonly started = performance.now();
  private readonly stdout: Buffer[] = [];
  private readonly stderr: Buffer[] = [];
  private timedOut = false;
  private interrupted = false;
  private stopping = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private stdinInFlight = 0;
  private wakeStdin: (() => void) | undefined;
  private readonly onAbort = () => this.stop("interrupt");

  constructor(
    private readonly channel: CommandChannel,
    readonly id: number,
    readonly argv: readonly string[],
    /** The EXEC payload (encodeExecRequest of argv, env, cwd), checked by the caller. */
    private readonly request: Uint8Array,
    private readonly options: GuestExecOptions,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The command was sent to the agent (it may have waited in the client's queue first). */
  private dispatched = false;

  /**
   * Starts the clock: the timeout and the abort signal count from the call, also while the
   * command waits in the queue. A queued command that times out or is aborted never starts.
   */
  arm(): void {
    const { timeoutMs, signal } = this.options;
    if (timeoutMs !== undefined) this.timers.push(setTimeout(() => this.stop("timeout"), timeoutMs));
    if (signal?.aborted) this.stop("interrupt");
    else signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** True once the command has ended (settled) without having been sent. */
  get cancelled(): boolean {
    return this.finished && !this.dispatched;
  }

  /** Sends the command to the agent. */
  dispatch(): void {
    if (this.finished) return;
    this.dispatched = true;
    this.channel.send(FrameType.Exec, this.id, this.request);
    const { input } = this.options;
    const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
    void this.sendStdin(bytes ?? new Uint8Array(0));
  }

  handleFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Stdout:
      case FrameType.Stderr: {
        const chunk = Buffer.from(frame.payload.buffer, frame.payload.byteOffset, frame.payload.length);
        const isStdout = frame.type === FrameType.Stdout;
        (isStdout ? this.stdout : this.stderr).push(chunk);
        try {
          (isStdout ? this.options.onStdout : this.options.onStderr)?.(chunk);
        } catch (error) {
          // A throwing callback ends the command: nobody is left to consume its output.
          this.signal("SIGKILL");
          this.settle(undefined, error instanceof Error ? error : new Error(String(error)));
        }
        return;
      }
      case FrameType.StdinAck:
        this.stdinInFlight -= decodeU32(frame.payload);
        this.wakeStdin?.();
        return;
      case FrameType.Exit:
        this.finish(frame.payload);
        return;
      case FrameType.Error:
        this.end();
        this.settle(
          undefined,
          new AgentError(`The guest agent could not run ${describeCommand(this.argv)}: ${Buffer.from(frame.payload).toString("utf8")}.`),
        );
        return;
    }
  }

  /** The channel is gone: the command's fate is unknown. */
  abandon(error: AgentError, options: { kill?: boolean } = {}): void {
    // Should the guest answer again, the command must not run on after its caller was told no.
    if (options.kill && this.dispatched) this.signal("SIGKILL");
    this.end();
    this.settle(undefined, error);
  }

  /** The command was sent to the agent (not only queued). */
  get sent(): boolean {
    return this.dispatched;
  }

  private async sendStdin(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length && !this.finished) {
      if (this.stdinInFlight >= STDIN_WINDOW) {
        await new Promise<void>((wake) => (this.wakeStdin = wake));
        this.wakeStdin = undefined;
        continue;
      }
      const size = Math.min(STDIN_CHUNK, data.length - offset, STDIN_WINDOW - this.stdinInFlight);
      this.stdinInFlight += size;
      const writable = this.channel.send(FrameType.Stdin, this.id, data.subarray(offset, offset + size));
      offset += size;
      if (!writable) await this.channel.whenWritable();
    }
    if (!this.finished) this.channel.send(FrameType.StdinEof, this.id);
  }

  private signal(name: "SIGINT" | "SIGKILL"): void {
    if (!this.finished) this.channel.send(FrameType.Signal, this.id, encodeU32(signalNumber(name)));
  }

  private stop(reason: "timeout" | "interrupt"): void {
    if (this.finished || this.stopping) return;
    this.stopping = true;
    if (reason === "timeout") this.timedOut = true;
    else this.interrupted = true;
    if (!this.dispatched) {
      // Still queued: it never starts.
      const { running, queued, limit } = this.channel.queueState();
      const what = describeCommand(this.argv);
      const lead = reason === "timeout" ? `Guest command ${what} timed out after ${this.options.timeoutMs} ms` : `Guest command ${what} was interrupted`;
      this.end();
      this.settle(
        undefined,
        new AgentError(`${lead} while it waited for its turn (${running} commands running, the agent's limit of ${limit}; ${queued} more waiting); it never started.`, {
          hint: "Give it a longer timeout, or run fewer commands at once.",
        }),
      );
      return;
    }
    this.signal("SIGINT");
    const grace = this.options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    // SIGINT again every 2 s, as a person presses Ctrl-C again: bpftrace 0.17 was measured to
    // sometimes miss a SIGINT that lands while it is still attaching probes, and then waits
    // forever (about one run in six under TCG here). A later SIGINT ends it with its maps.
    const repeat = setInterval(() => {
      if (!this.finished) this.signal("SIGINT");
    }, SIGINT_REPEAT_MS);
    this.timers.push(repeat as unknown as NodeJS.Timeout);
    const stall = this.channel.stallReason();
    if (stall) {
      // The guest cannot act on the signal now; say so instead of waiting for an exit that
      // comes only when it resumes. The signals stay queued and take effect then.
      this.settle(undefined, this.unanswered(reason, stall));
    }
    this.timers.push(
      setTimeout(() => {
        clearInterval(repeat);
        this.signal("SIGKILL");
        this.timers.push(
          setTimeout(() => {
            this.end();
            this.settle(undefined, this.unanswered(reason, this.channel.stallReason()));
          }, UNRESPONSIVE_AFTER_KILL_MS),
        );
      }, grace),
    );
  }

  private unanswered(reason: "timeout" | "interrupt", stall: string | null): AgentError {
    const what = describeCommand(this.argv);
    const elapsed = Math.round(performance.now() - this.started);
    const lead =
      reason === "timeout"
        ? `Guest command ${what} timed out after ${this.options.timeoutMs} ms`
        : `Guest command ${what} was interrupted after ${elapsed} ms`;
    if (stall) {
      return new AgentError(`${lead} and the guest cannot answer: ${stall}.`, {
        hint: "Resume the guest (e.g. `continue` in gdb), or give the command a longer timeout.",
      });
    }
    return new AgentError(`${lead}, and the guest did not report its exit even after SIGKILL.`, {
      hint: "The guest may be hung or overloaded; its console output may say why.",
    });
  }

  private finish(payload: Uint8Array): void {
    this.end();
    const status = decodeExit(payload);
    let exitCode: number | null = null;
    let signal: string | null = null;
    if (status.kind === "exited") exitCode = status.code;
    else if (status.kind === "signaled") signal = signalName(status.signal);
    else {
      // Like a shell: 127 for a missing program, 126 for one that cannot run.
      exitCode = status.errno === 2 ? 127 : 126;
      this.stderr.push(Buffer.from(`kbook-agent: ${status.message}\n`));
    }
    const stdoutBytes = Buffer.concat(this.stdout);
    const result = withLazyText(
      {
        argv: [...this.argv],
        exitCode,
        signal,
        stdoutBytes,
        durationMs: performance.now() - this.started,
        timedOut: this.timedOut,
        interrupted: this.interrupted,
      },
      stdoutBytes,
      Buffer.concat(this.stderr),
    );
    const failed = exitCode !== 0 || this.timedOut || this.interrupted;
    if (failed && this.options.reject !== false) this.settle(undefined, new GuestCommandError(result));
    else this.settle(result);
  }

  /** No more frames for this command: stop timers, listeners and the stdin writer. */
  private end(): void {
    if (this.finished) return;
    this.finished = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.wakeStdin?.();
    this.channel.forget(this.id);
  }

  private settle(result: GuestExecResult | undefined, error?: Error): void {
    if (this.settled) return;
    this.settled = true;
    if (error) this.reject(error);
    else this.resolve(result!);
  }
}

/** Decoding 64 MB of binary output as UTF-8 takes a second: done only when the text is read. */
function withLazyText(result: Omit<GuestExecResult, "stdout" | "stderr">, stdout: Buffer, stderr: Buffer): GuestExecResult {
  let stdoutText: string | undefined;
  let stderrText: string | undefined;
  return Object.defineProperties(result, {
    stdout: { enumerable: true, get: () => (stdoutText ??= stdout.toString("utf8")) },
    stderr: { enumerable: true, get: () => (stderrText ??= stderr.toString("utf8")) },
  }) as GuestExecResult;
}

/**
 * The pipe to one `gdb --interpreter=mi3` process: commands go in with a numeric token, one at
 * a time, and each resolves with its `^done`/`^error` result plus the console text gdb printed
 * while it ran. Async records (`*stopped`, `*running`, `=…`) go to a listener as they arrive.
 *
 * Commands are serialised so that console output (`~"…"`) can be attributed to the command
 * that produced it; gdb itself runs MI commands one after another anyway.
 */
import { execa, type ResultPromise } from "execa";
import { KbookError, tail } from "../errors/index.js";
import { MiSyntaxError, parseMiLine, type MiRecord, type MiResultClass, type MiTuple } from "./mi.js";

/** A gdb command failed: gdb answered `^error`, or gdb itself went away. */
export class GdbError extends KbookError {
  /** The MI command that failed. */
  readonly command: string;
  /** gdb's own message, when it gave one. */
  readonly gdbMessage?: string;
  constructor(command: string, message: string, options: { gdbMessage?: string; hint?: string; detail?: string; cause?: unknown } = {}) {
    super(message, options);
    this.command = command;
    this.gdbMessage = options.gdbMessage;
  }
}

/** A gdb command or a wait for the target did not finish in time. */
export class GdbTimeoutError extends GdbError {}

export interface MiCommandResult {
  class: MiResultClass;
  results: MiTuple;
  /** Console (`~`) and target (`@`) text printed while the command ran. */
  console: string;
  /** gdb's log stream (`&`): echoed CLI commands and error text. */
  log: string;
}

export interface MiChannelOptions {
  gdbPath?: string;
  /** Arguments after `--interpreter=mi3 -nx -q`. */
  args?: readonly string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Default time a command may take (ms). */
  commandTimeoutMs?: number;
  onAsync?: (record: Extract<MiRecord, { kind: "exec" | "status" | "notify" }>) => void;
  /**
   * Called with each command's result class before the command's promise settles, so state
   * follows `^running` before any `*stopped` later in the same chunk of output is seen.
   */
  onResult?: (resultClass: MiResultClass) => void;
  /** Output that belongs to no command: stray console text, or a line that is not MI at all. */
  onOutput?: (text: string, kind: "console" | "target" | "log") => void;
  onExit?: (error: GdbError) => void;
}

interface Pending {
  token: number;
  command: string;
  console: string[];
  log: string[];
  resolve: (result: MiCommandResult) => void;
  reject: (error: Error) => void;
}

export class MiChannel {
  private readonly child: ResultPromise<{ stdin: "pipe"; stdout: "pipe"; stderr: "pipe"; buffer: false; reject: false }>;
  private nextToken = 1;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stdoutRest = "";
  private stderrText = "";
  private exitError: GdbError | undefined;
  private readonly firstPrompt: Promise<void>;
  private resolveFirstPrompt!: () => void;
  readonly exited: Promise<void>;

  constructor(private readonly options: MiChannelOptions = {}) {
    const gdb = options.gdbPath ?? "gdb";
    this.firstPrompt = new Promise((resolve) => (this.resolveFirstPrompt = resolve));
    this.child = execa(gdb, ["--interpreter=mi3", "-nx", "-q", ...(options.args ?? [])], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      cwd: options.cwd,
      env: options.env,
      // Kill gdb when Node exits; and gdb quits on its own when its stdin closes.
      cleanup: true,
    });
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => this.onStdout(chunk));
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderrText = (this.stderrText + chunk).slice(-8192);
    });
    this.child.stdin.on("error", () => {
      /* EPIPE after gdb exited: reported through the exit below. */
    });
    this.exited = this.child.then((result) => {
      const missing = (result as { code?: string }).code === "ENOENT";
      const error = missing
        ? new GdbError("", `'${gdb}' is not installed.`, { hint: "Run 'kbook doctor --install' to install kbook's system dependencies." })
        : new GdbError("", `gdb exited${result.exitCode !== undefined ? ` with code ${result.exitCode}` : result.signal ? ` on ${result.signal}` : ""}.`, {
            detail: this.stderrText ? tail(this.stderrText) : undefined,
          });
      this.exitError = error;
      this.resolveFirstPrompt();
      this.pending?.reject(error);
      this.pending = undefined;
      this.options.onExit?.(error);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitError === undefined;
  }

  /** Resolves once gdb has printed its first prompt (it is reading commands). */
  async ready(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GdbTimeoutError("", `gdb did not start within ${timeoutMs / 1000} s.`, { detail: tail(this.stderrText) })), timeoutMs);
    });
    try {
      await Promise.race([this.firstPrompt, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (this.exitError) throw this.exitError;
  }

  /** Sends one MI command (e.g. `-break-insert -h main`); rejects with GdbError on `^error`. */
  send(command: string, options: { timeoutMs?: number } = {}): Promise<MiCommandResult> {
    if (/[\r\n]/.test(command)) throw new GdbError(command, "An MI command must be a single line.");
    const run = this.queue.then(() => this.sendNow(command, options.timeoutMs ?? this.options.commandTimeoutMs ?? 30_000));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private sendNow(command: string, timeoutMs: number): Promise<MiCommandResult> {
    if (this.exitError) return Promise.reject(new GdbError(command, `${this.exitError.message} It cannot run '${command}'.`, { detail: this.exitError.detail }));
    const token = this.nextToken++;
    return new Promise<MiCommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending?.token !== token) return;
        this.pending = undefined;
        reject(
          new GdbTimeoutError(command, `gdb did not answer '${command}' within ${timeoutMs / 1000} s.`, {
            hint: "A remote target that stopped responding (a guest killed or hung) leaves gdb waiting; close the session and reconnect.",
          }),
        );
      }, timeoutMs);
      this.pending = {
        token,
        command,
        console: [],
        log: [],
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.child.stdin.write(`${token}${command}\n`);
    });
  }

  /** Closes gdb's stdin (gdb quits at end of input), then kills it if it lingers. */
  async terminate(graceMs = 3000): Promise<void> {
    if (this.exitError) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills gdb at once. */
  kill(): void {
    if (!this.exitError) this.child.kill("SIGKILL");
  }

  private onStdout(chunk: string): void {
    const lines = (this.stdoutRest + chunk).split("\n");
    this.stdoutRest = lines.pop() ?? "";
    for (const line of lines) this.onLine(line);
  }

  private onLine(line: string): void {
    if (line === "" || line === "\r") return;
    let record: MiRecord;
    try {
      record = parseMiLine(line);
    } catch (error) {
      // An inferior sharing gdb's terminal writes straight into the MI stream.
      if (!(error instanceof MiSyntaxError)) throw error;
      this.options.onOutput?.(`${line}\n`, "target");
      return;
    }
    switch (record.kind) {
      case "prompt":
        this.resolveFirstPrompt();
        return;
      case "console":
      case "target":
      case "log":
        if (this.pending) (record.kind === "log" ? this.pending.log : this.pending.console).push(record.text);
        else this.options.onOutput?.(record.text, record.kind);
        return;
      case "result": {
        const pending = this.pending;
        if (!pending || record.token !== pending.token) return; // the answer to a command that timed out
        this.pending = undefined;
        this.options.onResult?.(record.class);
        const console = pending.console.join("");
        const log = pending.log.join("");
        if (record.class === "error") {
          const msg = typeof record.results.msg === "string" ? record.results.msg : "gdb reported an error";
          pending.reject(new GdbError(pending.command, `gdb: ${msg}`, { gdbMessage: msg, hint: hintFor(msg) }));
        } else {
          pending.resolve({ class: record.class, results: record.results, console, log });
        }
        return;
      }
      default:
        this.options.onAsync?.(record);
    }
  }
}

/** What to do about gdb's commonest complaints. */
function hintFor(message: string): string | undefined {
  if (/is running|while the target is running/i.test(message)) {
    return "The target is running: wait for it to stop (waitForStop) or stop it (interrupt) first.";
  }
  if (/No symbol .* in current context|Function .* not defined/i.test(message)) {
    return "gdb has no such symbol: check the name, or load symbols for this kernel (vmlinux with DWARF, Debian's -dbg package, or kallsyms).";
  }
  if (/Cannot access memory/i.test(message)) return "The address is not mapped in the current context (for user memory, stop in the process that owns it).";
  if (/not being run|No registers/i.test(message)) return "There is no live target: start, attach or connect first.";
  return undefined;
}

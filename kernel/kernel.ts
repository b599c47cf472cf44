/**
 * The kernel's request handling. Shell requests are handled one at a time in arrival order, each
 * framed by `status: busy` and `status: idle` on iopub; every output of a request is published
 * before its idle. Control requests (interrupt, shutdown) are handled at once, even while a cell
 * runs.
 *
 * After a cell fails with stop_on_error, execute requests that were already queued behind it are
 * answered `aborted` (what "Run All" expects: it stops at the error); every request still gets a
 * reply, and requests that arrive later run normally.
 */
import type { KernelChannels, RequestChannel } from "./protocol/channels.js";
import type { JupyterMessage } from "./protocol/wire.js";
import type { CellExecutor } from "./executor/cell-executor.js";
import type { OutputRouter } from "./output.js";
import type { TypeScriptWorker } from "./typescript/client.js";
import type { Interrupts } from "./interrupt/index.js";
import type { CellRequest, CellOutcome } from "./executor/cell-executor.js";
import type { MagicCompletion } from "./magics/completion.js";
import { History, type HistoryRequest } from "./history.js";
import { kernelInfo } from "./kernel-info.js";
import { codePointsToUtf16, utf16ToCodePoints } from "./protocol/cursor.js";
import { parseMagicCell } from "./magics/registry.js";

export interface KernelParts {
  channels: KernelChannels;
  executor: CellExecutor;
  typescript: TypeScriptWorker;
  router: OutputRouter;
  /** Completion inside a cell magic (its name, options, body), undefined for other cells. */
  completeMagic: (code: string, cursor: number) => Promise<MagicCompletion | undefined>;
  /** Told when cell code runs, so an interrupt may end a cell that holds the main thread. */
  interrupts?: Interrupts;
  /** Called after a shutdown request was answered; ends the process. */
  onShutdown: (restart: boolean) => Promise<void>;
  log: (text: string) => void;
}

export class Kernel {
  private executionCount = 0;
  private readonly history = new History();
  private readonly queue: JupyterMessage[] = [];
  private readonly toAbort = new Set<string>();
  private pumping = false;
  private cellAbort?: AbortController;
  private cellStartedAt = 0;
  private readonly idleSignal = new AbortController().signal;

  constructor(private readonly parts: KernelParts) {}

  start(): void {
    this.parts.channels.listen((message, channel) => this.receive(message, channel));
    void this.parts.channels.publish("status", { execution_state: "starting" });
  }

  /** The running cell's signal (what cellSignal() returns); never aborted between cells. */
  currentSignal(): AbortSignal {
    return this.cellAbort?.signal ?? this.idleSignal;
  }

  /** The execute_request being run, for input(): its sender and whether it allows stdin. */
  private running?: JupyterMessage;

  /**
   * A line of input from the frontend that sent the running cell (input() and password() in
   * cells). Fails with a clear error where the frontend does not take input.
   */
  async input(prompt: string, password: boolean): Promise<string> {
    const request = this.running;
    if (!request) throw new Error("input() works only while a cell runs.");
    if (request.content.allow_stdin !== true) {
      throw new Error(
        `This frontend does not take input (its execute_request has allow_stdin: false), so ${password ? "password" : "input"}(${JSON.stringify(prompt)}) cannot ask. ` +
          "Put the value in the cell instead, or run the notebook in a frontend that allows input (Notebook, JupyterLab, VS Code).",
      );
    }
    await this.parts.router.flush(); // the prompt comes after what the cell printed before it
    return this.parts.channels.requestInput(request, prompt, password, this.currentSignal());
  }

  /**
   * Stops the running cell (interrupt_request or SIGINT). `at`, when the request came: a cell
   * that started after it is not the one the user meant (an interrupt sent while idle, with the
   * next cell sent right behind it, must not stop that next cell).
   */
  interrupt(at?: number): void {
    if (at !== undefined && this.cellStartedAt > at) return;
    this.cellAbort?.abort(new Error("interrupted"));
  }

  private receive(message: JupyterMessage, channel: RequestChannel): void {
    if (channel === "control") {
      void this.handleControl(message).catch((error: unknown) => this.parts.log(`kbook kernel: ${message.header.msg_type} failed: ${String(error)}`));
      return;
    }
    this.queue.push(message);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let message = this.queue.shift(); message; message = this.queue.shift()) {
        const { channels } = this.parts;
        await channels.publish("status", { execution_state: "busy" }, message.header);
        try {
          await this.handleShell(message);
        } catch (error) {
          // A request the kernel failed to handle still gets a reply: a client waiting for one
          // would otherwise hang.
          this.parts.log(`kbook kernel: ${message.header.msg_type} failed: ${error instanceof Error ? error.stack : String(error)}`);
          const type = message.header.msg_type;
          if (type.endsWith("_request")) {
            const evalue = error instanceof Error ? error.message : String(error);
            await channels.reply("shell", message, type.replace(/_request$/, "_reply"), { status: "error", ename: "KernelError", evalue, traceback: [evalue] });
          }
        }
        await this.parts.router.flush();
        await channels.publish("status", { execution_state: "idle" }, message.header);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async handleShell(message: JupyterMessage): Promise<void> {
    const { channels, typescript } = this.parts;
    const content = message.content;
    const reply = (type: string, body: Record<string, unknown>) => channels.reply("shell", message, type, body);
    switch (message.header.msg_type) {
      case "kernel_info_request":
        return reply("kernel_info_reply", kernelInfo());
      case "execute_request":
        return this.execute(message);
      case "is_complete_request": {
        const completeness = await typescript.isComplete(String(content.code ?? ""));
        return reply("is_complete_reply", completeness);
      }
      case "complete_request":
        return reply("complete_reply", await this.complete(String(content.code ?? ""), Number(content.cursor_pos ?? 0)));
      case "inspect_request": {
        const code = String(content.code ?? "");
        const info = parseMagicCell(code) ? undefined : await typescript.inspect(code, codePointsToUtf16(code, Number(content.cursor_pos ?? code.length)));
        return reply("inspect_reply", {
          status: "ok",
          found: info !== undefined,
          data: info ? { "text/plain": info.plain, "text/markdown": info.markdown } : {},
          metadata: {},
        });
      }
      case "history_request":
        return reply("history_reply", { status: "ok", history: this.history.query(content as HistoryRequest) });
      case "comm_info_request":
        return reply("comm_info_reply", { status: "ok", comms: {} });
      case "connect_request": {
        const c = channels.connection;
        return reply("connect_reply", { shell_port: c.shell_port, iopub_port: c.iopub_port, stdin_port: c.stdin_port, hb_port: c.hb_port, control_port: c.control_port });
      }
      case "shutdown_request":
        return this.shutdown(message, "shell");
      case "comm_open":
      case "comm_msg":
      case "comm_close":
        // No comm targets: ipykernel also ignores messages for unknown comms.
        return;
      default:
        this.parts.log(`kbook kernel: unhandled shell message ${message.header.msg_type}`);
    }
  }

  private async handleControl(message: JupyterMessage): Promise<void> {
    const { channels } = this.parts;
    switch (message.header.msg_type) {
      case "interrupt_request":
        // The control thread has interrupted the cell already, before passing the request on.
        return channels.reply("control", message, "interrupt_reply", { status: "ok" });
      case "shutdown_request":
        return this.shutdown(message, "control");
      case "kernel_info_request":
        return channels.reply("control", message, "kernel_info_reply", kernelInfo());
      default:
        this.parts.log(`kbook kernel: unhandled control message ${message.header.msg_type}`);
    }
  }

  private async execute(message: JupyterMessage): Promise<void> {
    const { channels, router, executor } = this.parts;
    const content = message.content as { code?: string; silent?: boolean; store_history?: boolean; stop_on_error?: boolean };
    const code = String(content.code ?? "");
    const silent = content.silent === true;
    const storeHistory = !silent && content.store_history !== false;
    const reply = (body: Record<string, unknown>) => channels.reply("shell", message, "execute_reply", body);

    if (this.toAbort.delete(message.header.msg_id)) {
      return reply({ status: "aborted", execution_count: this.executionCount });
    }
    router.setParent(message.header);
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    if (!silent) await channels.publish("execute_input", { code, execution_count: count }, message.header);

    this.cellAbort = new AbortController();
    this.running = message;
    const outcome = await this.run({ code, label: `[${count}]`, signal: this.cellAbort.signal });
    this.running = undefined;
    this.cellAbort = undefined;

    if (outcome.status === "ok") {
      if (outcome.result && !silent) router.executeResult(count, outcome.result.data, outcome.result.metadata);
      await router.flush();
      if (storeHistory) this.history.add(count, code, outcome.result ? String(outcome.result.data["text/plain"] ?? "") : null);
      const userExpressions = await this.userExpressions(message.content.user_expressions);
      return reply({ status: "ok", execution_count: count, payload: outcome.payload ?? [], user_expressions: userExpressions });
    }
    if (!silent) router.error(outcome.error);
    await router.flush();
    if (storeHistory) this.history.add(count, code, null);
    if (content.stop_on_error !== false) {
      for (const queued of this.queue) if (queued.header.msg_type === "execute_request") this.toAbort.add(queued.header.msg_id);
    }
    return reply({ status: "error", execution_count: count, ...outcome.error });
  }

  /**
   * The `user_expressions` of an execute_request, evaluated after the cell in its scope: each
   * name gets the expression's display data, or the error it threw (protocol 5.3).
   */
  private async userExpressions(requested: unknown): Promise<Record<string, unknown>> {
    const answers: Record<string, unknown> = {};
    if (!requested || typeof requested !== "object") return answers;
    for (const [name, expression] of Object.entries(requested as Record<string, unknown>)) {
      this.cellAbort = new AbortController();
      const outcome = await this.run({ code: String(expression), label: `user_expressions.${name}`, signal: this.cellAbort.signal });
      this.cellAbort = undefined;
      answers[name] =
        outcome.status === "ok"
          ? { status: "ok", data: outcome.result?.data ?? { "text/plain": "undefined" }, metadata: outcome.result?.metadata ?? {} }
          : { status: "error", ...outcome.error };
    }
    return answers;
  }

  private async run(request: CellRequest): Promise<CellOutcome> {
    this.cellStartedAt = Date.now();
    this.parts.interrupts?.cellStarted();
    try {
      return await this.parts.executor.run(request);
    } finally {
      this.parts.interrupts?.cellEnded();
    }
  }

  private async complete(code: string, cursorCodePoints: number): Promise<Record<string, unknown>> {
    const cursor = codePointsToUtf16(code, cursorCodePoints);
    const empty = { status: "ok", matches: [], cursor_start: cursorCodePoints, cursor_end: cursorCodePoints, metadata: {} };
    const magic = await this.parts.completeMagic(code, cursor);
    if (magic) {
      const start = utf16ToCodePoints(code, magic.start);
      const end = utf16ToCodePoints(code, magic.end);
      return { status: "ok", matches: magic.matches, cursor_start: start, cursor_end: end, metadata: {} };
    }
    if (parseMagicCell(code)) return empty;
    const result = await this.parts.typescript.complete(code, cursor);
    const start = utf16ToCodePoints(code, result.start);
    const end = utf16ToCodePoints(code, result.end);
    return {
      status: "ok",
      matches: result.matches,
      cursor_start: start,
      cursor_end: end,
      metadata: { _jupyter_types_experimental: result.matches.map((text, i) => ({ text, type: result.kinds[i], start, end })) },
    };
  }

  private async shutdown(message: JupyterMessage, channel: RequestChannel): Promise<void> {
    const restart = message.content.restart === true;
    this.interrupt();
    await this.parts.channels.reply(channel, message, "shutdown_reply", { status: "ok", restart });
    await this.parts.onShutdown(restart);
  }
}

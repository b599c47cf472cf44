/**
 * A minimal Jupyter client over ZeroMQ (DEALER to shell and control, SUB to iopub), what the
 * kernel benchmark and tests use to drive a real kernel process the way jupyter_client does:
 * it writes a connection file, starts the kernel with it and signs every message.
 */
import { Dealer, Subscriber } from "zeromq";
import { execa, type ResultPromise } from "execa";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHeader, decodeMessage, encodeMessage, MessageSigner, type ConnectionInfo, type JsonObject, type JupyterMessage } from "./wire.js";

export interface ExecuteResult {
  reply: JupyterMessage;
  /** iopub messages of the request between busy and idle (execute_input excluded). */
  outputs: JupyterMessage[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export class KernelClient {
  readonly session = randomUUID();
  private readonly shell = new Dealer();
  private readonly control = new Dealer();
  private readonly iopub = new Subscriber();
  private readonly signer: MessageSigner;
  /** Each returns true when it has taken the message (and is then removed). */
  private readonly iopubWaiters: ((m: JupyterMessage) => boolean)[] = [];
  private readonly iopubBacklog: JupyterMessage[] = [];
  private readonly replies = new Map<string, (m: JupyterMessage) => void>();

  private constructor(
    readonly info: ConnectionInfo,
    readonly process: ResultPromise,
    private readonly dir: string,
  ) {
    this.signer = new MessageSigner(info.key, info.signature_scheme);
    this.iopub.subscribe();
  }

  /** Starts `argv` (the kernel command; "{connection_file}" is replaced) and connects to it. */
  static async start(argv: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<KernelClient> {
    const dir = mkdtempSync(join(tmpdir(), "kbook-kernel-client-"));
    const [shell_port, iopub_port, stdin_port, control_port, hb_port] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const info: ConnectionInfo = {
      transport: "tcp",
      ip: "127.0.0.1",
      key: randomBytes(16).toString("hex"),
      signature_scheme: "hmac-sha256",
      shell_port: shell_port!,
      iopub_port: iopub_port!,
      stdin_port: stdin_port!,
      control_port: control_port!,
      hb_port: hb_port!,
    };
    const file = join(dir, "connection.json");
    writeFileSync(file, JSON.stringify(info));
    const [command, ...args] = argv.map((a) => (a === "{connection_file}" ? file : a));
    const child = execa(command!, args, { cwd: options.cwd, env: options.env, reject: false, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const client = new KernelClient(info, child, dir);
    client.shell.connect(`tcp://127.0.0.1:${info.shell_port}`);
    client.control.connect(`tcp://127.0.0.1:${info.control_port}`);
    client.iopub.connect(`tcp://127.0.0.1:${info.iopub_port}`);
    void client.readReplies(client.shell);
    void client.readReplies(client.control);
    void client.readIopub();
    return client;
  }

  /** Sends a request and resolves with its reply. */
  request(msgType: string, content: JsonObject = {}, channel: "shell" | "control" = "shell"): Promise<JupyterMessage> {
    const header = createHeader(msgType, this.session);
    const socket = channel === "shell" ? this.shell : this.control;
    const reply = new Promise<JupyterMessage>((resolve) => this.replies.set(header.msg_id, resolve));
    void socket.send(encodeMessage({ identities: [], header, parent_header: {}, metadata: {}, content }, this.signer));
    return reply;
  }

  /** Waits until the kernel answers kernel_info and iopub delivers (PUB drops messages until SUB joins). */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await Promise.race([this.request("kernel_info_request"), sleep(1000).then(() => undefined)]);
      if (reply) {
        const status = await this.nextIopub((m) => m.parent_header.msg_id === reply.parent_header.msg_id, 500).catch(() => undefined);
        if (status) return;
      }
      if (Date.now() > deadline) throw new Error("The kernel did not become ready.");
    }
  }

  /** Runs code; resolves after the reply and the request's `status: idle`. */
  async execute(code: string, content: JsonObject = {}): Promise<ExecuteResult> {
    const header = createHeader("execute_request", this.session);
    const outputs: JupyterMessage[] = [];
    const idle = new Promise<void>((resolve) => {
      const collect = (m: JupyterMessage) => {
        if (m.parent_header.msg_id !== header.msg_id) return false;
        if (m.header.msg_type === "status" && m.content.execution_state === "idle") return true;
        if (m.header.msg_type !== "status" && m.header.msg_type !== "execute_input") outputs.push(m);
        return false;
      };
      void this.nextIopub(collect, 0).then(() => resolve());
    });
    const reply = new Promise<JupyterMessage>((resolve) => this.replies.set(header.msg_id, resolve));
    const body = { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true, ...content };
    void this.shell.send(encodeMessage({ identities: [], header, parent_header: {}, metadata: {}, content: body }, this.signer));
    const [r] = await Promise.all([reply, idle]);
    return { reply: r, outputs };
  }

  /** Resolves with the first iopub message (already received or future) for which `match` is true. */
  nextIopub(match: (m: JupyterMessage) => boolean, timeoutMs: number): Promise<JupyterMessage> {
    const index = this.iopubBacklog.findIndex(match);
    if (index >= 0) return Promise.resolve(this.iopubBacklog.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => reject(new Error("timed out waiting for iopub")), timeoutMs) : undefined;
      const waiter = (m: JupyterMessage) => {
        if (!match(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      this.iopubWaiters.push(waiter);
    });
  }

  /** Asks the kernel to shut down, waits for the process to end (killing it after `timeoutMs`). */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    await Promise.race([this.request("shutdown_request", { restart: false }, "control"), sleep(timeoutMs)]);
    const timer = setTimeout(() => this.process.kill("SIGKILL"), timeoutMs);
    await this.process;
    clearTimeout(timer);
    this.close();
  }

  close(): void {
    for (const s of [this.shell, this.control, this.iopub]) {
      s.linger = 0;
      s.close();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async readReplies(socket: Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        const message = decodeMessage(frames, this.signer);
        const id = message.parent_header.msg_id;
        const waiter = id ? this.replies.get(id) : undefined;
        if (waiter) {
          this.replies.delete(id!);
          waiter(message);
        }
      }
    } catch {
      // Socket closed.
    }
  }

  private async readIopub(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        const message = decodeMessage(frames, this.signer);
        const taken = this.iopubWaiters.findIndex((w) => w(message));
        if (taken >= 0) {
          this.iopubWaiters.splice(taken, 1);
        } else {
          this.iopubBacklog.push(message);
          if (this.iopubBacklog.length > 1000) this.iopubBacklog.shift();
        }
      }
    } catch {
      // Socket closed.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

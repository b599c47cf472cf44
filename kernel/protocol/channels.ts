/**
 * The kernel's five ZeroMQ sockets, bound as the connection file says: shell and control are
 * ROUTERs (requests in, replies back to the sender's routing id), iopub is a PUB (outputs and
 * status for every client), stdin a ROUTER (input_request out to the client that sent the
 * running execute_request, input_reply back) and heartbeat a REP that echoes. Control and
 * heartbeat live in their own thread (control-thread.ts), so a cell that holds the main thread
 * can still be interrupted and the kernel still answers heartbeats.
 *
 * zeromq.js allows one `send` in flight per socket, so each socket has a queue. The queue is also
 * what keeps iopub in order: an output enqueued before `status: idle` is sent before it.
 */
import { Publisher, Router } from "zeromq";
import type { Interrupts } from "../interrupt/index.js";
import { ControlSocket, type FrameSocket } from "./control-socket.js";
import { randomUUID } from "node:crypto";
import {
  createHeader,
  decodeMessage,
  encodeMessage,
  endpoint,
  WireError,
  type ConnectionInfo,
  type JsonObject,
  type JupyterMessage,
  type MessageSigner,
} from "./wire.js";

export type RequestChannel = "shell" | "control";
export type MessageHandler = (message: JupyterMessage, channel: RequestChannel) => void;

type Sender = { send(frames: Buffer[]): Promise<void> };

class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly socket: Sender) {}

  push(frames: Buffer[]): Promise<void> {
    this.tail = this.tail.then(
      () => this.socket.send(frames),
      () => this.socket.send(frames),
    );
    return this.tail;
  }

  /** Resolves once everything queued so far has been handed to ZeroMQ. */
  drain(): Promise<void> {
    return this.tail.catch(() => undefined);
  }
}

export class KernelChannels {
  /** The session id the kernel puts in every header it writes. */
  readonly session = randomUUID();
  private readonly shell = new Router();
  private readonly stdin = new Router();
  private readonly iopub = new Publisher();
  private readonly queues = new Map<Sender, SendQueue>();
  private closed = false;

  private control!: ControlSocket;

  private constructor(
    private readonly info: ConnectionInfo,
    private readonly signer: MessageSigner,
    private readonly log: (text: string) => void,
  ) {
    for (const s of [this.shell, this.stdin, this.iopub]) {
      // Replies still queued when the kernel exits get half a second to leave.
      s.linger = 500;
      this.queues.set(s, new SendQueue(s));
    }
  }

  /** Binds the sockets; interrupt requests reach `interrupts` even while a cell holds the main thread. */
  static async open(info: ConnectionInfo, signer: MessageSigner, log: (text: string) => void, interrupts: Interrupts): Promise<KernelChannels> {
    const channels = new KernelChannels(info, signer, log);
    const [control] = await Promise.all([
      ControlSocket.start(info, interrupts.state, (request, at) => interrupts.receive(request, at), log),
      channels.shell.bind(endpoint(info, info.shell_port)),
      channels.stdin.bind(endpoint(info, info.stdin_port)),
      channels.iopub.bind(endpoint(info, info.iopub_port)),
    ]);
    channels.control = control;
    channels.queues.set(control, new SendQueue(control));
    return channels;
  }

  listen(handler: MessageHandler): void {
    void this.receiveLoop(this.shell, "shell", (message) => handler(message, "shell"));
    void this.receiveLoop(this.control, "control", (message) => handler(message, "control"));
    void this.receiveLoop(this.stdin, "stdin", (message) => this.answerInput(message));
  }

  private readonly inputWaiters = new Map<string, (value: string) => void>();

  /**
   * Asks the client that sent `request` (an execute_request) for a line of input: an
   * input_request on stdin, to the same routing id (clients give their shell and stdin sockets
   * one identity), answered by an input_reply. Rejects on `signal`.
   */
  requestInput(request: JupyterMessage, prompt: string, password: boolean, signal: AbortSignal): Promise<string> {
    const header = createHeader("input_request", this.session);
    const answer = new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        this.inputWaiters.delete(header.msg_id);
        reject(signal.reason instanceof Error ? signal.reason : new Error("interrupted"));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.inputWaiters.set(header.msg_id, (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      });
    });
    void this.send(this.stdin, { identities: request.identities, header, parent_header: request.header, metadata: {}, content: { prompt, password } });
    return answer;
  }

  private answerInput(message: JupyterMessage): void {
    if (message.header.msg_type !== "input_reply") return;
    // JupyterLab names the input_request as the reply's parent; jupyter_client (and so nbclient
    // and the console) sends no parent at all and means the oldest open request.
    const parentId = String(message.parent_header.msg_id ?? "");
    const id = this.inputWaiters.has(parentId) ? parentId : this.inputWaiters.keys().next().value;
    const waiter = id === undefined ? undefined : this.inputWaiters.get(id);
    if (!waiter || id === undefined) return;
    this.inputWaiters.delete(id);
    waiter(String(message.content.value ?? ""));
  }

  /** Sends a reply to `request` on the channel it came from. */
  reply(channel: RequestChannel, request: JupyterMessage, msgType: string, content: JsonObject, metadata: JsonObject = {}): Promise<void> {
    const socket = channel === "shell" ? this.shell : this.control;
    return this.send(socket, {
      identities: request.identities,
      header: createHeader(msgType, this.session),
      parent_header: request.header,
      metadata,
      content,
    });
  }

  /** Publishes on iopub, as a child of `parent` (the request being handled) when given. */
  publish(msgType: string, content: JsonObject, parent?: JupyterMessage["header"], metadata: JsonObject = {}): Promise<void> {
    return this.send(this.iopub, {
      identities: [Buffer.from(`kernel.${this.session}.${msgType}`)],
      header: createHeader(msgType, this.session),
      parent_header: parent ?? {},
      metadata,
      content,
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let queued messages (shutdown_reply, the last idle) reach the sockets before closing.
    await Promise.all([...this.queues.values()].map((q) => q.drain()));
    for (const s of [this.shell, this.stdin, this.iopub]) s.close();
    await this.control.close();
  }

  private send(socket: Sender, message: Omit<JupyterMessage, "buffers">): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queues
      .get(socket)!
      .push(encodeMessage(message, this.signer))
      .catch((error: unknown) => this.log(`kbook kernel: sending ${message.header.msg_type} failed: ${String(error)}`));
  }

  private async receiveLoop(socket: FrameSocket, channel: RequestChannel | "stdin", handler: (message: JupyterMessage) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        let message: JupyterMessage;
        try {
          message = decodeMessage(frames, this.signer);
        } catch (error) {
          // A message we cannot trust or parse is dropped, as ipykernel does; it never runs.
          this.log(`kbook kernel: ignoring ${channel} message: ${error instanceof WireError ? error.message : String(error)}`);
          continue;
        }
        handler(message);
      }
    } catch (error) {
      if (!this.closed) this.log(`kbook kernel: ${channel} socket failed: ${String(error)}`);
    }
  }

  get connection(): ConnectionInfo {
    return this.info;
  }
}

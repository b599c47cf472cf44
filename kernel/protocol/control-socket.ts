/**
 * The main thread's side of the control thread (control-thread.ts): the control socket as an
 * async iterable of frames with a `send`, like a zeromq Router, plus the interrupt requests the
 * thread forwards ahead of their messages.
 */
import { Worker } from "node:worker_threads";
import type { ControlThreadData, ControlThreadMessage } from "./control-thread.js";
import { endpoint, type ConnectionInfo } from "./wire.js";

export interface FrameSocket extends AsyncIterable<Buffer[]> {
  send(frames: Buffer[]): Promise<void>;
}

const toBuffer = (f: Uint8Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);

export class ControlSocket implements FrameSocket {
  private readonly inbox: Buffer[][] = [];
  private wake?: () => void;
  private ended = false;
  private closed?: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    onInterrupt: (request: number, at: number) => void,
    log: (text: string) => void,
  ) {
    worker.on("message", (message: ControlThreadMessage) => {
      if (message.op === "interrupt") onInterrupt(message.request, message.at);
      else if (message.op === "message") {
        this.inbox.push(message.frames.map(toBuffer));
        this.wake?.();
      } else if (message.op === "failed") log(`kbook kernel: control thread: ${message.error}`);
    });
    worker.on("error", (error) => log(`kbook kernel: control thread failed: ${String(error)}`));
    worker.on("exit", () => this.end());
  }

  /** Starts the thread and binds the control and heartbeat ports; rejects when binding fails. */
  static start(info: ConnectionInfo, state: Int32Array, onInterrupt: (request: number, at: number) => void, log: (text: string) => void): Promise<ControlSocket> {
    const workerData: ControlThreadData = {
      controlEndpoint: endpoint(info, info.control_port),
      heartbeatEndpoint: endpoint(info, info.hb_port),
      key: info.key,
      signatureScheme: info.signature_scheme,
      state,
    };
    const worker = new Worker(new URL("./control-thread.js", import.meta.url), { workerData });
    worker.unref();
    return new Promise((resolve, reject) => {
      const onMessage = (message: ControlThreadMessage) => {
        if (message.op !== "ready" && message.op !== "failed") return;
        worker.off("message", onMessage);
        worker.off("error", reject);
        if (message.op === "ready") resolve(new ControlSocket(worker, onInterrupt, log));
        else {
          void worker.terminate();
          reject(new Error(`the control thread could not bind its sockets: ${message.error}`));
        }
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
  }

  send(frames: Buffer[]): Promise<void> {
    if (!this.ended) this.worker.postMessage({ op: "send", frames } satisfies ControlThreadMessage);
    return Promise.resolve();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer[]> {
    for (;;) {
      const next = this.inbox.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Sends what is queued, closes the sockets and ends the thread. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      const done = () => {
        this.end();
        void this.worker.terminate().finally(resolve);
      };
      const timer = setTimeout(done, 1000);
      this.worker.on("message", (message: ControlThreadMessage) => {
        if (message.op === "closed") {
          clearTimeout(timer);
          done();
        }
      });
      this.worker.postMessage({ op: "close" } satisfies ControlThreadMessage);
    });
    return this.closed;
  }

  private end(): void {
    this.ended = true;
    this.wake?.();
  }
}

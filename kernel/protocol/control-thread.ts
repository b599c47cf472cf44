/**
 * The control and heartbeat sockets, served from a worker thread. The main thread runs cells, and
 * a cell that spins in synchronous code holds it: an interrupt_request waiting on a socket the
 * main thread reads would never be read, and unanswered heartbeats make frontends report the
 * kernel dead. Here both stay live: heartbeats are echoed, and an interrupt_request first
 * interrupts the main thread (kernel/interrupt/state.ts), then goes to it like every control
 * message, which replies through this thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Reply, Router } from "zeromq";
import { interruptMainThread } from "../interrupt/state.js";
import { decodeMessage, MessageSigner } from "./wire.js";

export interface ControlThreadData {
  controlEndpoint: string;
  heartbeatEndpoint: string;
  key: string;
  signatureScheme: string;
  state: Int32Array;
}

/** Messages between the control thread and the main thread. */
export type ControlThreadMessage =
  | { op: "ready" }
  | { op: "failed"; error: string }
  | { op: "message"; frames: Uint8Array[] }
  | { op: "interrupt"; request: number; at: number }
  | { op: "send"; frames: Uint8Array[] }
  | { op: "close" }
  | { op: "closed" };

const data = workerData as ControlThreadData;
const port = parentPort!;
const signer = new MessageSigner(data.key, data.signatureScheme);
const control = new Router();
const heartbeat = new Reply();
control.linger = 500; // replies still queued at exit get half a second to leave
heartbeat.linger = 0;
let closing = false;
let sending: Promise<void> = Promise.resolve();

const post = (message: ControlThreadMessage) => port.postMessage(message);

function isInterruptRequest(frames: Buffer[]): boolean {
  try {
    return decodeMessage(frames, signer).header.msg_type === "interrupt_request";
  } catch {
    return false; // the main thread decodes it again and logs why it is dropped
  }
}

async function serveControl(): Promise<void> {
  for await (const frames of control) {
    if (isInterruptRequest(frames)) await interruptMainThread(data.state, (request, at) => post({ op: "interrupt", request, at }));
    post({ op: "message", frames });
  }
}

async function echoHeartbeats(): Promise<void> {
  for await (const frames of heartbeat) await heartbeat.send(frames);
}

port.on("message", (message: ControlThreadMessage) => {
  if (message.op === "send") {
    const frames = message.frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength));
    sending = sending.then(() => control.send(frames)).catch(() => undefined);
  } else if (message.op === "close") {
    closing = true;
    void sending.then(() => {
      control.close();
      heartbeat.close();
      post({ op: "closed" });
    });
  }
});

try {
  await Promise.all([control.bind(data.controlEndpoint), heartbeat.bind(data.heartbeatEndpoint)]);
  post({ op: "ready" });
} catch (error) {
  post({ op: "failed", error: error instanceof Error ? error.message : String(error) });
}
const failed = (which: string) => (error: unknown) => {
  if (!closing) post({ op: "failed", error: `${which} socket: ${String(error)}` });
};
void serveControl().catch(failed("control"));
void echoHeartbeats().catch(failed("heartbeat"));

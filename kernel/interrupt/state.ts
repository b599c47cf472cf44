/**
 * How a busy main thread gets interrupted. The main thread runs cells; while a cell spins in
 * synchronous code (`while (true) {}`) it reads no socket and runs no signal handler, so the
 * interrupt has to come from another thread:
 *
 * 1. A worker (the control thread for interrupt_request, the SIGINT watch for Ctrl-C) asks the
 *    main thread to interrupt, by message, and waits a moment for the answer it writes into
 *    shared memory.
 * 2. An answer means the main thread was free: it aborts the cell's signal as always.
 * 3. No answer, while a cell runs, means the cell is stuck in JavaScript: the worker ends that
 *    execution with the inspector's `Runtime.terminateExecution`, what Chrome's "stop" does.
 *    V8 unwinds the stack to the event loop and cancels the termination there; the main thread
 *    then reads the waiting message and the cell's reply says Interrupted. The cell's variables
 *    stay, as after any interrupt.
 *
 * Termination drops the microtasks queued at that moment, so it is the last resort: only for a
 * running cell, only after the grace period.
 */
import { Session } from "node:inspector";

/** Slots of the shared Int32Array. */
export const REQUESTED = 0;
export const ANSWERED = 1;
/** 1 while a cell (or user expression) runs, set by the main thread. */
export const CELL_RUNNING = 2;
const SLOTS = 3;

/** How long a free main thread takes, at most, to answer: beyond it, it is stuck. */
export const ANSWER_GRACE_MS = 250;

export function createInterruptState(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * Worker side (the control thread): asks the main thread to interrupt (`tell` posts the request number to it) and
 * terminates its JavaScript when it does not answer in time while a cell runs.
 */
export async function interruptMainThread(state: Int32Array, tell: (request: number, at: number) => void): Promise<void> {
  const request = Atomics.add(state, REQUESTED, 1) + 1;
  tell(request, Date.now());
  // Polled with a timer, not Atomics.waitAsync: a pending waitAsync does not keep a worker's
  // event loop alive. (The SIGINT watch runs this procedure synchronously, see sigint-watch.ts.)
  const deadline = Date.now() + ANSWER_GRACE_MS;
  while (Atomics.load(state, ANSWERED) < request && Date.now() < deadline) await sleep(5);
  if (Atomics.load(state, ANSWERED) < request && Atomics.load(state, CELL_RUNNING) === 1) await terminateMainThread();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Main side: the interrupt request numbered `request` has been seen. */
export function answerInterrupt(state: Int32Array, request: number): void {
  if (request > Atomics.load(state, ANSWERED)) {
    Atomics.store(state, ANSWERED, request);
    Atomics.notify(state, ANSWERED);
  }
}

function terminateMainThread(): Promise<void> {
  const session = new Session();
  session.connectToMainThread();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(fallback);
      // A session left connected makes Node print "Waiting for the debugger to disconnect" at exit.
      session.disconnect();
      resolve();
    };
    // The timer also keeps the thread's event loop alive until the answer comes.
    const fallback = setTimeout(done, 2000);
    session.post("Runtime.terminateExecution", done);
  });
}

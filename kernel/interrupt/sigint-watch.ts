/**
 * The SIGINT watch (a worker thread): Ctrl-C must stop a cell that spins in synchronous code,
 * when the main thread's `process.on("SIGINT")` handler cannot run. Node's `breakOnSigint` (what
 * its REPL uses) catches SIGINT natively and ends the script it guards; here that script is a wait
 * on shared memory, so SIGINT is what ends it.
 *
 * The thread never returns to its event loop: every wait is guarded, because between two guarded
 * scripts Node puts back its default SIGINT action, which exits the process. So the procedure of
 * state.ts runs here synchronously, the inspector session to the main thread is opened once at
 * start (while the main thread is surely free), and its answers are never awaited.
 */
import { Session } from "node:inspector";
import { createContext, Script } from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { ANSWER_GRACE_MS, ANSWERED, CELL_RUNNING, REQUESTED } from "./state.js";

const state = (workerData as { state: Int32Array }).state;
const session = new Session();
session.connectToMainThread();

const forever = new Int32Array(new SharedArrayBuffer(4));
const waitScript = new Script("Atomics.wait(args.array, args.index, args.value, args.timeout)");
const args = { array: forever, index: 0, value: 0, timeout: Infinity };
const context = createContext({ args, Atomics });

/** Waits like Atomics.wait, guarded against SIGINT; true when a SIGINT ended the wait. */
function guardedWait(array: Int32Array, index: number, value: number, timeout: number): boolean {
  Object.assign(args, { array, index, value, timeout });
  try {
    waitScript.runInContext(context, { breakOnSigint: true });
    return false;
  } catch {
    return true;
  }
}

for (;;) {
  if (!guardedWait(forever, 0, 0, Infinity)) continue;
  const request = Atomics.add(state, REQUESTED, 1) + 1;
  parentPort!.postMessage({ op: "interrupt", request, at: Date.now() });
  const deadline = Date.now() + ANSWER_GRACE_MS;
  for (let answered = Atomics.load(state, ANSWERED); answered < request && Date.now() < deadline; answered = Atomics.load(state, ANSWERED)) {
    guardedWait(state, ANSWERED, answered, Math.max(1, deadline - Date.now())); // a second Ctrl-C meanwhile is the same interrupt
  }
  if (Atomics.load(state, ANSWERED) < request && Atomics.load(state, CELL_RUNNING) === 1) session.post("Runtime.terminateExecution");
}

/**
 * The main thread's side of interrupts (see state.ts for how a busy main thread is reached):
 * the shared state the workers read, the SIGINT watch, and the one handler every interrupt
 * request ends in, whichever way it came.
 */
import { Worker } from "node:worker_threads";
import { answerInterrupt, CELL_RUNNING, createInterruptState } from "./state.js";

export class Interrupts {
  readonly state = createInterruptState();
  private watch?: Worker;

  /** `handler(at)`: interrupt what was running at `at` (ms since the epoch: when the request came). */
  constructor(private readonly handler: (at: number) => void) {}

  /** A worker's interrupt request number `request`, made at `at`, reached the main thread. */
  receive(request: number, at: number): void {
    answerInterrupt(this.state, request);
    this.handler(at);
  }

  /** Between these, a stuck main thread may be terminated (only cell code runs then, in effect). */
  cellStarted(): void {
    Atomics.store(this.state, CELL_RUNNING, 1);
  }

  cellEnded(): void {
    Atomics.store(this.state, CELL_RUNNING, 0);
  }

  /**
   * Starts the SIGINT watch: from then on SIGINT (Ctrl-C in the terminal that started Jupyter, or
   * a frontend's kill -INT) interrupts also a cell that spins. The main thread's own SIGINT handler
   * stays for the instants the watch is between two waits.
   */
  watchSigint(log: (text: string) => void): void {
    this.watch = new Worker(new URL("./sigint-watch.js", import.meta.url), { workerData: { state: this.state } });
    this.watch.unref();
    this.watch.on("message", (message: { op: string; request: number; at: number }) => {
      if (message.op === "interrupt") this.receive(message.request, message.at);
    });
    this.watch.on("error", (error) => log(`kbook kernel: SIGINT watch failed: ${String(error)}`));
  }

  async close(): Promise<void> {
    await this.watch?.terminate();
  }
}

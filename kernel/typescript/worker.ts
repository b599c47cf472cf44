/**
 * The TypeScript worker thread: loading TypeScript and parsing lib and @types/node take over a
 * second, and checking a cell blocks for milliseconds to seconds. Off the main thread, none of it
 * delays kernel_info replies, heartbeats, interrupts or the output of a running cell.
 */
import { parentPort, workerData } from "node:worker_threads";
import { CellCompiler, type CellCompilerOptions } from "./cell-compiler.js";
import { checkCompleteness } from "./cell-source.js";
import type { WorkerRequest } from "./client.js";

const compiler = new CellCompiler(workerData as CellCompilerOptions);

function handle(request: WorkerRequest): unknown {
  switch (request.op) {
    case "compile":
      return compiler.compile(request.code);
    case "commit":
      return compiler.commit(request.commitId);
    case "complete":
      return compiler.complete(request.code, request.position);
    case "inspect":
      return compiler.inspect(request.code, request.position);
    case "isComplete":
      return checkCompleteness(request.code);
    case "declare":
      return compiler.declareVariable(request.name, request.typeText);
    case "warm":
      return compiler.warm();
  }
}

parentPort!.on("message", (message: { id: number; request: WorkerRequest }) => {
  try {
    parentPort!.postMessage({ id: message.id, result: handle(message.request) });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});

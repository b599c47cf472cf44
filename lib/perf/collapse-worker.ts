/** A worker thread of the parallel collapser: collapses one byte range of a file, posts the part. */
import { closeSync, openSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { PerfScriptCollapser } from "./collapse.js";
import { pushFileRange, type PartRequest } from "./collapse-parallel.js";

const request = workerData as PartRequest;
const collapser = new PerfScriptCollapser(request.options);
const fd = openSync(request.path, "r");
try {
  pushFileRange(collapser, fd, request.start, request.end, Buffer.allocUnsafe(1 << 20));
} finally {
  closeSync(fd);
}
const part = collapser.endPart();
const { pool, starts, lengths, counts } = part.stacks;
parentPort!.postMessage(part, [pool.buffer, starts.buffer, lengths.buffer, counts.buffer] as ArrayBuffer[]);

/**
 * Collapsing a large `perf script` file on several cores. The file is cut into parts at blank
 * lines (where a sample ends and the collapser holds no state but the event it keeps), each part
 * is collapsed by its own collapser — this thread's and worker threads' — and the parts are
 * merged in order: stacks by their names, statistics with line numbers shifted. The output is
 * the same, byte for byte, as collapsing the file in one piece.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { packageRoot } from "../paths.js";
import { firstEvent, PerfScriptCollapser, type CollapseOptions, type CollapsePart } from "./collapse.js";
import { checkPerfScriptHead } from "./input.js";

/**
 * Below this many bytes a part is not worth a thread: each thread starts cold (its first
 * megabytes run before the JIT has compiled the collapser) and meets every distinct line anew.
 */
export const MIN_PART_BYTES = 64 << 20;
const READ_SIZE = 1 << 20;
/** How far past a cut point to look for a blank line. */
const BOUNDARY_WINDOW = 4 << 20;

/** What a worker is asked to collapse. */
export interface PartRequest {
  path: string;
  start: number;
  end: number;
  options: CollapseOptions;
}

/** Pushes bytes [start, end) of an open file into a collapser, a block at a time. */
export function pushFileRange(collapser: PerfScriptCollapser, fd: number, start: number, end: number, buffer: Buffer): void {
  let position = start;
  while (position < end) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, end - position), position);
    if (n <= 0) break;
    collapser.push(buffer.subarray(0, n));
    position += n;
  }
}

/**
 * Where to cut a file of `size` bytes into up to `parts` parts: offsets just after a blank line
 * ("\n\n"), ascending, without 0 and size. Fewer cuts when no blank line is near a cut point.
 */
export function findCuts(fd: number, size: number, parts: number): number[] {
  const cuts: number[] = [];
  const window = Buffer.allocUnsafe(BOUNDARY_WINDOW);
  for (let k = 1; k < parts; k++) {
    const target = Math.floor((size * k) / parts);
    if (cuts.length && target <= cuts[cuts.length - 1]!) continue;
    const n = readSync(fd, window, 0, Math.min(window.length, size - target), target);
    const at = window.subarray(0, n).indexOf("\n\n", 0, "latin1");
    if (at >= 0 && target + at + 2 < size) cuts.push(target + at + 2);
  }
  return cuts;
}

function workerUrl(): URL {
  // From dist/ the worker is beside this module; from the TypeScript sources (tests), it is the
  // built one.
  const beside = new URL("./collapse-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = join(packageRoot(), "dist", "lib", "perf", "collapse-worker.js");
  if (!existsSync(built)) throw new Error(`kbook: ${built} is missing; run 'npm run build'.`);
  return new URL(`file://${built}`);
}

function collapseInWorker(request: PartRequest): Promise<CollapsePart> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl(), { workerData: request, resourceLimits: { maxYoungGenerationSizeMb: 6 } });
    let done = false;
    worker.once("message", (part: CollapsePart) => {
      done = true;
      resolve(part);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (!done) reject(new Error(`kbook: a collapse worker exited with code ${code}`));
    });
  });
}

export interface ParallelTuning {
  /** At most this many threads (default: the cores available). */
  threads?: number;
  /** Parts are at least this large (default MIN_PART_BYTES). */
  minPartBytes?: number;
}

/**
 * Collapses a perf script file using up to `threads` threads (default: the cores available).
 * Returns the collapser holding the merged result (call folded() on it), or undefined when the
 * file is too small to be worth cutting, or cannot be cut (the caller then collapses it whole).
 */
export async function collapseFileInParallel(path: string, options: CollapseOptions, tuning: ParallelTuning = {}): Promise<PerfScriptCollapser | undefined> {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const parts = Math.min(tuning.threads ?? availableParallelism(), Math.floor(size / (tuning.minPartBytes ?? MIN_PART_BYTES)));
    if (parts < 2) return undefined;
    const head = Buffer.allocUnsafe(READ_SIZE);
    const headLength = readSync(fd, head, 0, head.length, 0);
    checkPerfScriptHead(head.subarray(0, headLength), `'${path}'`);
    // The later parts must keep the event the first sample names, as one collapser would.
    const eventFilter = options.eventFilter ?? firstEvent(head.subarray(0, headLength));
    if (eventFilter === undefined) return undefined;
    const cuts = findCuts(fd, size, parts);
    if (cuts.length === 0) return undefined;
    const bounds = [0, ...cuts, size];
    const workers: Promise<CollapsePart>[] = [];
    for (let i = 1; i + 1 < bounds.length; i++) {
      workers.push(collapseInWorker({ path, start: bounds[i]!, end: bounds[i + 1]!, options: { ...options, eventFilter } }));
    }
    // Failures surface when awaited below; until then, keep them from being unhandled.
    for (const w of workers) w.catch(() => undefined);
    const collapser = new PerfScriptCollapser(options);
    pushFileRange(collapser, fd, 0, bounds[1]!, Buffer.allocUnsafe(READ_SIZE));
    collapser.endInput();
    for (const part of await Promise.all(workers)) collapser.merge(part);
    return collapser;
  } finally {
    closeSync(fd);
  }
}

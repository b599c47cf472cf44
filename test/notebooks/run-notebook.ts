/**
 * Executes a notebook the way CI and `npm start` do: `kbook run` (nbclient with a fresh kbook
 * kernel), from the built CLI. While it runs, every QEMU started under it is noted (by walking
 * /proc parent links), so a test can check that none outlives the run.
 */
import { execa } from "execa";
import { existsSync, mkdirSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { readNotebook, type Notebook } from "./notebook-outputs.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const NOTEBOOKS_DIR = join(ROOT, "notebooks");
const CLI = join(ROOT, "dist/lib/cli/main.js");
/** Executed copies land here (gitignored), to be looked at when a check fails. */
export const RUNS_DIR = join(ROOT, ".kbook/notebook-runs");

export interface NotebookRun {
  notebook: Notebook;
  outputPath: string;
  exitCode: number | undefined;
  /** kbook run's own report: one line per cell with its time, then failures. */
  stderr: string;
  seconds: number;
  /** PIDs of the QEMU processes started under the run. */
  qemuPids: number[];
}

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

async function processes(): Promise<ProcInfo[]> {
  const list: ProcInfo[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    // comm is in parentheses and may contain spaces; the fields after it are space-separated.
    const m = /^(\d+) \((.*)\) \S+ (\d+)/.exec(stat);
    if (m) list.push({ pid: Number(m[1]), comm: m[2]!, ppid: Number(m[3]) });
  }
  return list;
}

async function qemuDescendantsOf(root: number): Promise<number[]> {
  const all = await processes();
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (child.comm.startsWith("qemu-system")) found.push(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Runs notebooks/NAME.ipynb headless; `cellTimeoutS` fails a cell that hangs instead of the test. */
export async function runNotebook(name: string, cellTimeoutS: number): Promise<NotebookRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does it in pretest).`);
  mkdirSync(RUNS_DIR, { recursive: true });
  const outputPath = join(RUNS_DIR, `${name}.ipynb`);
  const started = Date.now();
  const child = execa("node", [CLI, "run", join(NOTEBOOKS_DIR, `${name}.ipynb`), "-o", outputPath, "--timeout", String(cellTimeoutS)], {
    cwd: ROOT,
    reject: false,
    stdin: "ignore",
  });
  const qemu = new Set<number>();
  const watch = setInterval(() => {
    if (child.pid) void qemuDescendantsOf(child.pid).then((pids) => pids.forEach((p) => qemu.add(p)));
  }, 500);
  let result;
  try {
    result = await child;
  } finally {
    clearInterval(watch);
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`[notebooks] ${name}: exit ${result.exitCode}, ${seconds.toFixed(1)} s\n`);
  if (!existsSync(outputPath)) throw new Error(`kbook run saved no notebook (exit ${result.exitCode}):\n${String(result.stderr)}\n${String(result.stdout)}`);
  return { notebook: readNotebook(outputPath), outputPath, exitCode: result.exitCode, stderr: String(result.stderr), seconds, qemuPids: [...qemu] };
}

/**
 * Executing a notebook headless with kbook's kernel through Jupyter's own client (nbclient),
 * as a notebook server would: the kernelspec is installed into the project if needed, progress
 * (one line per cell) goes to stderr, and a failing cell is reported by number and error.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { execa } from "execa";
import { KbookError, ToolError, UsageError, tail } from "../errors/index.js";
import { assetPath } from "../paths.js";
import { JUPYTER_PYTHON } from "../system/doctor.js";
import { ensureProjectKernelSpec, jupyterPathWith, KERNEL_NAME } from "./kernelspec.js";

export interface RunNotebookOptions {
  /** Where to save the executed notebook (default: in place). */
  output?: string;
  /** Fail a cell that runs longer than this many seconds. */
  timeoutSeconds?: number;
  /** Keep running after a failing cell (the run still counts as failed). */
  allowErrors?: boolean;
}

export interface CellFailure {
  cell: number | null;
  ename: string;
  evalue: string;
}

export interface RunNotebookResult {
  saved: string;
  failures: CellFailure[];
}

export async function runNotebook(notebook: string, options: RunNotebookOptions = {}): Promise<RunNotebookResult> {
  if (!existsSync(notebook)) throw new UsageError(`No notebook at ${notebook}.`);
  if (!existsSync(JUPYTER_PYTHON)) {
    throw new ToolError("python3", `${JUPYTER_PYTHON} is missing.`, { hint: "Install Debian's Jupyter: kbook doctor --install." });
  }
  if (options.timeoutSeconds !== undefined && !(options.timeoutSeconds > 0)) throw new UsageError("The cell timeout must be a positive number of seconds.");
  const output = resolve(options.output ?? notebook);
  const dataDir = ensureProjectKernelSpec();
  const argv = [assetPath("kernel", "run_notebook.py"), resolve(notebook), "--output", output, "--kernel", KERNEL_NAME];
  if (options.timeoutSeconds !== undefined) argv.push("--timeout", String(options.timeoutSeconds));
  if (options.allowErrors) argv.push("--allow-errors");
  const child = await execa(JUPYTER_PYTHON, argv, {
    env: { JUPYTER_PATH: jupyterPathWith(dataDir), PYTHONUNBUFFERED: "1" },
    stdin: "ignore",
    stderr: "inherit",
    reject: false,
  });
  let outcome: { saved?: string; failures?: CellFailure[]; fatal?: string };
  try {
    outcome = JSON.parse(String(child.stdout).trim().split("\n").pop() ?? "");
  } catch {
    throw new ToolError("nbclient", `Running the notebook failed (exit code ${child.exitCode}).`, { exitCode: child.exitCode, stderrTail: tail(String(child.stdout)) });
  }
  if (outcome.fatal) throw new KbookError(`Running ${notebook} failed: ${outcome.fatal}`);
  return { saved: outcome.saved ?? output, failures: outcome.failures ?? [] };
}

/**
 * The kernelspec Jupyter uses to start this kernel (`kernels/kbook/kernel.json` in a Jupyter data
 * directory). By default it goes into the project (`.kbook/jupyter`, gitignored), so installing
 * changes nothing system-wide; Jupyter finds it when that directory is on JUPYTER_PATH.
 *
 * interrupt_mode "message": the front end interrupts with an interrupt_request on the control
 * channel, which stops the running cell (and its guest commands) instead of a signal.
 *
 * --no-force-async-hooks-checks: an interrupt ends a cell that spins in synchronous code with
 * V8's terminateExecution (kernel/interrupt/state.ts). Ended inside a timer or I/O callback, that
 * leaves Node's async-id stack one entry off, and Node's default check of that stack aborts the
 * process; without the check the kernel, and the notebook's variables, live on.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { packageRoot } from "../paths.js";
import { KbookError } from "../errors/index.js";

export const KERNEL_NAME = "kbook";
export const KERNEL_DISPLAY_NAME = "TypeScript (kbook)";

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: "message" | "signal";
  metadata: Record<string, unknown>;
}

export type InstallTarget = { kind: "project" } | { kind: "user" } | { kind: "prefix"; prefix: string };

/** The project's own Jupyter data directory: put it on JUPYTER_PATH. */
export function projectJupyterPath(): string {
  return join(packageRoot(), ".kbook", "jupyter");
}

/** The Jupyter data directory a target means (kernelspecs live in its kernels/ folder). */
export function jupyterDataDir(target: InstallTarget): string {
  switch (target.kind) {
    case "project":
      return projectJupyterPath();
    case "prefix":
      // As `jupyter kernelspec install --prefix`: PREFIX/share/jupyter.
      return join(resolve(target.prefix), "share", "jupyter");
    case "user":
      return process.env.JUPYTER_DATA_DIR ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"), "jupyter");
  }
}

export function kernelSpec(): KernelSpec {
  const main = join(packageRoot(), "dist", "kernel", "main.js");
  if (!existsSync(main)) throw new KbookError(`The kernel is not built (${main} is missing).`, { hint: "Run 'npm run build' first." });
  return {
    // The absolute node path: Jupyter may run with a PATH where `node` is another version or absent.
    argv: [process.execPath, "--no-force-async-hooks-checks", main, "{connection_file}"],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "message",
    metadata: { debugger: false },
  };
}

/** Writes kernels/kbook/kernel.json under the target's data directory; returns where. */
export function installKernelSpec(target: InstallTarget): { dataDir: string; kernelDir: string; spec: KernelSpec } {
  const dataDir = jupyterDataDir(target);
  const kernelDir = join(dataDir, "kernels", KERNEL_NAME);
  const spec = kernelSpec();
  mkdirSync(kernelDir, { recursive: true });
  writeFileSync(join(kernelDir, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
  return { dataDir, kernelDir, spec };
}

/** Installs into the project unless an identical kernelspec is already there; returns its data dir. */
export function ensureProjectKernelSpec(): string {
  const dataDir = projectJupyterPath();
  const file = join(dataDir, "kernels", KERNEL_NAME, "kernel.json");
  const wanted = JSON.stringify(kernelSpec(), null, 2) + "\n";
  if (!existsSync(file) || readFileSync(file, "utf8") !== wanted) installKernelSpec({ kind: "project" });
  return dataDir;
}

/** JUPYTER_PATH with `dataDir` first, keeping what the user had. */
export function jupyterPathWith(dataDir: string, existing = process.env.JUPYTER_PATH): string {
  return existing ? `${dataDir}:${existing}` : dataDir;
}

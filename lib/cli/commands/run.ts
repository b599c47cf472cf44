import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { execa } from "execa";
import type { Command } from "../command.js";
import { numberOption, stringOption } from "../command.js";
import { KbookError, ToolError, UsageError, tail } from "../../errors/index.js";
import { assetPath } from "../../assets.js";
import { ensureProjectKernelSpec, jupyterPathWith, KERNEL_NAME } from "../../../kernel/kernelspec.js";

/** Debian's Jupyter lives in the system Python; a `python3` earlier on PATH may not have it. */
const SYSTEM_PYTHON = "/usr/bin/python3";

interface RunOutcome {
  saved?: string;
  failures?: { cell: number | null; ename: string; evalue: string }[];
  fatal?: string;
}

export const runCommand: Command = {
  name: "run",
  summary: "Execute a notebook with the kbook kernel (through nbclient) and save its outputs",
  usage: "kbook run NOTEBOOK.ipynb [-o OUT.ipynb] [--timeout S] [--allow-errors]",
  description:
    "Runs every code cell in order through Jupyter's own client, as a notebook server would, and\n" +
    "writes the notebook with its outputs (to NOTEBOOK.ipynb itself unless -o is given). A failing\n" +
    "cell stops the run and exits 1 naming the cell and its error; with --allow-errors every cell\n" +
    "runs and each failure is reported. The kernelspec is installed into the project if needed.",
  options: {
    output: { type: "string", short: "o", value: "OUT.ipynb", description: "where to save the executed notebook" },
    timeout: { type: "string", value: "S", description: "fail a cell that runs longer than S seconds (default: no limit)" },
    "allow-errors": { type: "boolean", description: "keep running after a failing cell (still exits 1)" },
  },
  async run(args) {
    const [notebook, ...extra] = args.positionals;
    if (!notebook || extra.length) throw new UsageError("kbook run takes one notebook.", { hint: "Usage: kbook run NOTEBOOK.ipynb [-o OUT.ipynb]" });
    if (!existsSync(notebook)) throw new UsageError(`No notebook at ${notebook}.`);
    if (!existsSync(SYSTEM_PYTHON)) throw new ToolError("python3", `${SYSTEM_PYTHON} is missing.`, { hint: "Install Debian's Jupyter: apt-get install jupyter-notebook python3-nbclient." });
    const timeout = numberOption(args, "timeout");
    if (timeout !== undefined && timeout <= 0) throw new UsageError("--timeout expects a positive number of seconds.");
    const output = resolve(stringOption(args, "output") ?? notebook);
    const dataDir = ensureProjectKernelSpec();

    const argv = [assetPath("kernel", "run_notebook.py"), resolve(notebook), "--output", output, "--kernel", KERNEL_NAME];
    if (timeout !== undefined) argv.push("--timeout", String(timeout));
    if (args.values["allow-errors"]) argv.push("--allow-errors");
    const child = await execa(SYSTEM_PYTHON, argv, {
      env: { JUPYTER_PATH: jupyterPathWith(dataDir), PYTHONUNBUFFERED: "1" },
      stdin: "ignore",
      stderr: "inherit",
      reject: false,
    });
    let outcome: RunOutcome;
    try {
      outcome = JSON.parse(String(child.stdout).trim().split("\n").pop() ?? "") as RunOutcome;
    } catch {
      throw new ToolError("nbclient", `Running the notebook failed (exit code ${child.exitCode}).`, { exitCode: child.exitCode, stderrTail: tail(String(child.stdout)) });
    }
    if (outcome.fatal) throw new KbookError(`Running ${notebook} failed: ${outcome.fatal}`);
    for (const failure of outcome.failures ?? []) {
      process.stderr.write(`kbook: cell ${failure.cell ?? "?"} failed: ${failure.ename}: ${failure.evalue}\n`);
    }
    process.stderr.write(`kbook: saved ${outcome.saved ?? output}\n`);
    return outcome.failures?.length ? 1 : 0;
  },
};

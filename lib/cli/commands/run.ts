import type { Command } from "../command.js";
import { numberOption, stringOption } from "../command.js";
import { UsageError } from "../../errors/index.js";

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
    const { runNotebook } = await import("../../notebooks/run.js");
    const result = await runNotebook(notebook, {
      output: stringOption(args, "output"),
      timeoutSeconds: numberOption(args, "timeout"),
      allowErrors: Boolean(args.values["allow-errors"]),
    });
    for (const failure of result.failures) process.stderr.write(`kbook: cell ${failure.cell ?? "?"} failed: ${failure.ename}: ${failure.evalue}\n`);
    process.stderr.write(`kbook: saved ${result.saved}\n`);
    return result.failures.length ? 1 : 0;
  },
};

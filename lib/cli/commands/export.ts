import type { Command } from "../command.js";
import { stringOption } from "../command.js";
import { UsageError } from "../../errors/index.js";

export const exportCommand: Command = {
  name: "export",
  summary: "Export a notebook to one self-contained HTML file (works offline, from file://)",
  usage: "kbook export NOTEBOOK.ipynb [-o OUT.html] [options]",
  description:
    "Markdown is rendered (raw HTML in it is shown as text), code is highlighted, and outputs are kept:\n" +
    "flame graphs stay interactive, Vega-Lite charts are drawn by an inlined vega-embed over their SVG.\n" +
    "Output HTML and SVG are sanitised, as Jupyter does for a notebook it does not trust; scripts\n" +
    "that kbook itself ships (flame graph search and zoom) keep running. --trust keeps every output\n" +
    "as it is, like 'jupyter trust'. Cell tags remove-cell/-input/-output and hide-cell/-input/-output\n" +
    "(Jupyter Book's) and JupyterLab's hidden-source/outputs metadata are honoured.",
  options: {
    output: { type: "string", short: "o", value: "FILE", description: "where to write the HTML (default: NOTEBOOK.html next to the notebook)" },
    title: { type: "string", value: "TEXT", description: "page title (default: the notebook's title metadata or first heading)" },
    trust: { type: "boolean", description: "keep outputs' scripts and markup unsanitised (only for notebooks you trust)" },
  },
  async run(args) {
    const [input, ...extra] = args.positionals;
    if (!input) throw new UsageError("kbook export: which notebook?", { hint: "Run 'kbook export NOTEBOOK.ipynb -o OUT.html'." });
    if (extra.length) throw new UsageError(`kbook export takes one notebook; got also: ${extra.join(" ")}.`);
    const output = stringOption(args, "output") ?? input.replace(/\.ipynb$/i, "") + ".html";
    const started = performance.now();
    // Loaded here, not at the top: every kbook command imports this file, few of them export.
    const { exportNotebookFile } = await import("../../export/index.js");
    const result = await exportNotebookFile(input, output, { trust: Boolean(args.values.trust), title: stringOption(args, "title") });
    for (const note of result.notes) process.stderr.write(`kbook export: note: ${note}\n`);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    process.stderr.write(`kbook export: ${result.cells} cells, ${(result.bytes / 1e6).toFixed(2)} MB in ${seconds} s\n`);
    process.stdout.write(`${result.output}\n`);
    return 0;
  },
};

import type { Command } from "../command.js";
import { stringOption } from "../command.js";
import { UsageError } from "../../errors/index.js";
import { installKernelSpec, KERNEL_DISPLAY_NAME, KERNEL_NAME, type InstallTarget } from "../../notebooks/kernelspec.js";

const installCommand: Command = {
  name: "install",
  summary: `Install the Jupyter kernelspec '${KERNEL_NAME}' (${KERNEL_DISPLAY_NAME})`,
  usage: "kbook kernel install [--user | --prefix DIR]",
  description:
    "By default the kernelspec goes into the project (.kbook/jupyter), so nothing outside it changes;\n" +
    "Jupyter finds it with JUPYTER_PATH=<that directory>. --user installs it for your user, --prefix\n" +
    "into DIR/share/jupyter (as 'jupyter kernelspec install --prefix' does).",
  options: {
    user: { type: "boolean", description: "install into your user's Jupyter data directory" },
    prefix: { type: "string", value: "DIR", description: "install into DIR/share/jupyter/kernels" },
  },
  async run(args) {
    const prefix = stringOption(args, "prefix");
    if (prefix !== undefined && args.values.user) throw new UsageError("Give --user or --prefix, not both.");
    const target: InstallTarget = prefix !== undefined ? { kind: "prefix", prefix } : args.values.user ? { kind: "user" } : { kind: "project" };
    const { dataDir, kernelDir } = installKernelSpec(target);
    process.stdout.write(`Installed kernelspec '${KERNEL_NAME}' (${KERNEL_DISPLAY_NAME}) in ${kernelDir}\n`);
    if (target.kind !== "user") process.stdout.write(`Jupyter finds it with: JUPYTER_PATH=${dataDir}\n`);
    return 0;
  },
};

export const kernelCommand: Command = {
  name: "kernel",
  summary: "The Jupyter kernel: install its kernelspec",
  usage: "kbook kernel COMMAND",
  options: {},
  subcommands: [installCommand],
};

import type { Command, ParsedArgs } from "../command.js";
import { stringOption, numberOption } from "../command.js";
import { terminalProgress } from "../progress.js";
import { formatBytes } from "../../progress/index.js";
import { UsageError } from "../../errors/index.js";
import type { LinuxBuildOptions } from "../../linux/index.js";

/** The Linux library, loaded when a command runs. */
const linux = () => import("../../linux/index.js");

const configOptions = {
  config: { type: "string", value: "PRESET|FILE", description: "learn (default: small, DWARF 5, BTF, gdb scripts, ftrace, kprobes), defconfig, debian, or a .config file" },
  fragment: { type: "string", multiple: true, value: "FILE", description: "a config fragment merged over the preset (repeatable)" },
  set: { type: "string", multiple: true, value: "CONFIG_X=VAL", description: "one option, y|n|m|VALUE (repeatable; applied last)" },
  source: { type: "string", value: "PATH", description: "your kernel tree (default: Debian's linux-source package, unpacked into the cache)" },
} as const;

function buildOptionsFromArgs(args: ParsedArgs): LinuxBuildOptions {
  const list = (name: string) => (args.values[name] as string[] | undefined) ?? [];
  return {
    config: stringOption(args, "config"),
    fragments: list("fragment"),
    set: list("set"),
    source: stringOption(args, "source"),
    name: stringOption(args, "name"),
    jobs: numberOption(args, "jobs"),
  };
}


const build: Command = {
  name: "build",
  summary: "Build a kernel from source (or reuse the cached build) and print its directory",
  usage: "kbook linux build [--config PRESET|FILE] [--fragment FILE]... [--set CONFIG_X=y]... [--source PATH] [--name NAME]",
  description:
    "Builds out of tree (make O=…) in kbook's cache, with ccache and every core. The same source,\n" +
    "config and compiler is a cache hit; after an edit only what changed recompiles. The build\n" +
    "directory holds bzImage, vmlinux (DWARF), System.map, config, vmlinux-gdb.py and scripts/gdb.\n" +
    "Boot it with 'kbook boot --linux NAME', debug it with 'kbook gdb --linux NAME'.",
  options: {
    ...configOptions,
    name: { type: "string", value: "NAME", description: "name of the build (default: the preset)" },
    jobs: { type: "string", value: "N", description: "parallel jobs (default: every core)" },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`kbook linux build takes no arguments (got '${args.positionals[0]}').`, { hint: "Use --config, --fragment, --set or --source." });
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once("SIGINT", onSigint);
    try {
      const result = await (await linux()).buildLinux({ ...buildOptionsFromArgs(args), onProgress: terminalProgress("linux"), signal: controller.signal });
      process.stdout.write(result.dir + "\n");
      return 0;
    } finally {
      process.off("SIGINT", onSigint);
    }
  },
};

const config: Command = {
  name: "config",
  summary: "Show the effective config's differences from the preset, and any option that did not hold",
  usage: "kbook linux config [--config PRESET|FILE] [--fragment FILE]... [--set CONFIG_X=y]... [--source PATH] [--full]",
  options: { ...configOptions, full: { type: "boolean", description: "print the whole effective .config instead" } },
  async run(args) {
    const lib = await linux();
    const options = buildOptionsFromArgs(args);
    const inputs = await lib.resolveConfigInputs(options);
    const { ProgressReporter } = await import("../../progress/index.js");
    const progress = new ProgressReporter(terminalProgress("linux"));
    const source = await lib.resolveLinuxSource(options.source, progress);
    const { effective, differences } = await lib.explainConfig(source, inputs, lib.treeStamp(source.dir).kconfig, progress);
    if (args.values.full) {
      process.stdout.write(effective.text);
    } else {
      process.stdout.write(`# ${inputs.name}: ${differences.length} option${differences.length === 1 ? "" : "s"} differ from the preset\n`);
      for (const d of differences) process.stdout.write(`${d.from === "n" ? "+" : d.to === "n" ? "-" : "~"} CONFIG_${d.symbol}=${d.to}${d.from !== "n" && d.to !== "n" ? `  (was ${d.from})` : ""}\n`);
    }
    for (const d of effective.dropped) process.stderr.write(`warning: ${d.message}\n`);
    return 0;
  },
};

const list: Command = {
  name: "list",
  summary: "List built kernels",
  usage: "kbook linux list [--json]",
  options: { json: { type: "boolean", description: "print JSON" } },
  async run(args) {
    const builds = await (await linux()).listLinuxBuilds();
    if (args.values.json) {
      process.stdout.write(JSON.stringify(builds.map((b) => ({ dir: b.dir, ...b.manifest })), null, 2) + "\n");
      return 0;
    }
    if (!builds.length) {
      process.stdout.write("No kernels built yet. Build one with 'kbook linux build' (the learn config: about 7 minutes on two cores).\n");
      return 0;
    }
    for (const { dir, manifest } of builds) {
      const bytes = Object.values(manifest.files).reduce((s, f) => s + f.bytes, 0);
      process.stdout.write(`${manifest.name}-${manifest.key}  ${manifest.release}  ${manifest.config.preset}  ${formatBytes(bytes)}  built ${manifest.createdAt}  ${dir}\n`);
    }
    return 0;
  },
};

/** The build a `path` or `rm` names (its name, `name-key` or key). */
async function namedBuild(args: ParsedArgs, verb: string) {
  const ref = args.positionals[0];
  if (!ref) throw new UsageError(`kbook linux ${verb} needs a build name or key.`, { hint: "See 'kbook linux list'." });
  return (await linux()).resolveLinuxBuild(ref);
}

const path: Command = {
  name: "path",
  summary: "Print the directory of a built kernel",
  usage: "kbook linux path NAME|KEY",
  options: {},
  async run(args) {
    process.stdout.write((await namedBuild(args, "path")).dir + "\n");
    return 0;
  },
};

const rm: Command = {
  name: "rm",
  summary: "Remove a built kernel from the cache",
  usage: "kbook linux rm NAME|KEY",
  options: {},
  async run(args) {
    const build = await namedBuild(args, "rm");
    await (await linux()).removeLinuxBuild(build);
    process.stderr.write(`removed ${build.dir}\n`);
    return 0;
  },
};

export const linuxCommand: Command = {
  name: "linux",
  summary: "Build Linux from source with a learning config; list, locate and remove builds",
  usage: "kbook linux COMMAND [options]",
  options: {},
  subcommands: [build, config, list, path, rm],
};

/**
 * %%perf: `perf record` in the guest around a command, shown as a flame graph. The command is
 * what follows `--` on the magic line (verbatim, for the guest's shell), or else the cell body.
 */
import { UsageError } from "../../lib/errors/index.js";
import { lazyProgress, VM_OPTION, type Magic } from "./registry.js";

export const perfMagic: Magic = {
  name: "perf",
  summary: "profile a guest command with perf record and show the flame graph",
  usage: "%%perf [-F 999] [-a] [-g] [--vm NAME] [--out NAME] -- COMMAND",
  options: {
    frequency: { type: "string", short: "F", description: "samples per second (perf record -F)" },
    "all-cpus": { type: "boolean", short: "a", description: "sample all CPUs (perf record -a)" },
    "call-graph": { type: "boolean", short: "g", description: "record call stacks (perf record -g)" },
    vm: VM_OPTION,
  },
  resultType: 'import("kbook").Profile',
  async run(context) {
    const command = context.command || context.body.trim();
    if (!command) throw new UsageError("%%perf needs a command to profile.", { hint: "Write it after --: %%perf -F 999 -a -g -- dd if=/dev/zero of=/dev/null count=100000" });
    const frequency = context.options.frequency === undefined ? undefined : Number(context.options.frequency);
    if (frequency !== undefined && !(Number.isInteger(frequency) && frequency > 0)) throw new UsageError(`-F expects a positive whole number of samples per second, got '${context.options.frequency}'.`);
    const vm = await context.vm();
    if (!vm.perf) throw new UsageError("This VM has no perf support (vm.perf).", { hint: "Boot a VM from an image with linux-perf (the debian recipe)." });
    const value = await vm.perf.record({
      command,
      frequency,
      allCpus: context.options["all-cpus"] === true,
      callGraph: context.options["call-graph"] === true,
      signal: context.signal,
      onProgress: lazyProgress(context, "perf record"),
    });
    return { value, show: true };
  },
};

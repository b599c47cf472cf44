/**
 * %%bpftrace: the cell body is a bpftrace program run in the guest; the cell shows the typed
 * result (kstack table, histogram chart, flame graph) through its Jupyter display method.
 */
import { UsageError } from "../../lib/errors/index.js";
import { parseDuration } from "../../lib/progress/index.js";
import { lazyProgress, VM_OPTION, type Magic } from "./registry.js";

export const bpftraceMagic: Magic = {
  name: "bpftrace",
  summary: "run the cell as a bpftrace program in the guest",
  usage: "%%bpftrace [--duration 5s] [--vm NAME] [--out NAME]",
  options: {
    duration: { type: "string", description: "stop tracing after this long (e.g. 5s); default: until the program exits or an interrupt" },
    vm: VM_OPTION,
  },
  resultType: 'import("kbook").BpftraceResult',
  async run(context) {
    if (!context.body.trim()) throw new UsageError("%%bpftrace needs a bpftrace program in the cell body.");
    const duration = typeof context.options.duration === "string" ? parseDuration(context.options.duration, "--duration") : undefined;
    const vm = await context.vm();
    if (typeof vm.bpftrace !== "function") throw new UsageError("This VM has no bpftrace support (vm.bpftrace).", { hint: "Boot a VM from an image with bpftrace (the debian recipe)." });
    const value = await vm.bpftrace(context.body, {
      duration,
      signal: context.signal,
      onPrintf: context.stdout,
      onProgress: lazyProgress(context, "bpftrace"),
    });
    return { value, show: true };
  },
};

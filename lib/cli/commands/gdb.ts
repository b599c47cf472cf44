import type { Command } from "../command.js";
import { stringOption } from "../command.js";
import { bootOptionsFromArgs, vmOptions } from "./boot.js";
import { terminalProgress } from "../progress.js";

export const gdbCommand: Command = {
  name: "gdb",
  summary: "Boot a guest paused and debug its kernel with gdb in this terminal",
  usage: "kbook gdb [--image NAME] [--linux NAME | --kernel PATH] [--vmlinux PATH] [--break FUNCTION]... [options]",
  description:
    "Boots the guest with its CPUs held at reset and QEMU's gdbstub on 127.0.0.1, loads the best\n" +
    "symbols there are (your vmlinux; Debian's -dbg package with --debian-symbols; otherwise names\n" +
    "and addresses from the image's /proc/kallsyms) and attaches gdb. Try: hbreak start_kernel,\n" +
    "continue, bt. The VM is shut down when gdb exits.",
  options: {
    ...vmOptions,
    vmlinux: { type: "string", value: "PATH", description: "symbols: your vmlinux with DWARF (default: --kernel when it is an ELF)" },
    "debian-symbols": { type: "boolean", description: "download Debian's linux-image-<release>-dbg for full DWARF (about 815 MB, cached)" },
    break: { type: "string", multiple: true, value: "FUNCTION", description: "hbreak on FUNCTION (or 0xADDRESS) before the prompt; repeatable" },
    continue: { type: "boolean", description: "continue right after connecting (with --break: run to the breakpoint)" },
  },
  async run(args) {
    const { bootVm } = await import("../../boot/index.js");
    const { gdbTargetOf } = await import("../../vm/index.js");
    const { resolveKernelSymbols } = await import("../../gdb/symbols.js");
    const { runInteractiveGdb } = await import("../../gdb/interactive.js");
    const options = bootOptionsFromArgs(args);
    const onProgress = terminalProgress("gdb");
    const vm = await bootVm({ ...options, onProgress, gdb: true, paused: true });
    try {
      const vmlinux = stringOption(args, "vmlinux");
      const symbols = await resolveKernelSymbols({
        ...gdbTargetOf(vm.kernel),
        ...(vmlinux ? { vmlinux } : {}),
        debianDebug: Boolean(args.values["debian-symbols"]),
        onProgress,
      });
      process.stderr.write(`[gdb] symbols: ${symbols.path ?? "none"} (${symbols.source}${symbols.dwarf ? ", DWARF" : ", names only"})\n`);
      for (const warning of symbols.warnings) process.stderr.write(`[gdb] note: ${warning}\n`);
      process.stderr.write(`[gdb] gdbstub on 127.0.0.1:${vm.gdbPort}; the CPUs wait at reset until you 'continue'.\n`);
      const breaks = (args.values.break as string[] | undefined) ?? [];
      return await runInteractiveGdb({ port: vm.gdbPort!, symbols, breakpoints: breaks, continueAfterConnect: Boolean(args.values.continue) });
    } finally {
      await vm.shutdown();
    }
  },
};

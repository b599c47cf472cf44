import type { Command, ParsedArgs } from "../command.js";
import { numberOption, stringOption } from "../command.js";
import { parseDuration } from "../../progress/index.js";
import type { BootOptions } from "../../boot/index.js";
import { terminalProgress } from "../progress.js";
import { UsageError } from "../../errors/index.js";

export const vmOptions = {
  image: { type: "string", value: "NAME", description: "image: debian (default), busybox, a cache key or an image directory" },
  kernel: { type: "string", value: "PATH", description: "boot your own kernel (bzImage or vmlinux) instead of the image's" },
  linux: { type: "string", value: "NAME|DIR", description: "boot a kernel built with 'kbook linux build' (its name, key or directory)" },
  initrd: { type: "string", value: "PATH", description: "your own initrd" },
  append: { type: "string", value: "ARGS", description: "extra kernel command line words" },
  memory: { type: "string", value: "MIB", description: "guest memory in MiB (default 1024)" },
  smp: { type: "string", value: "N", description: "virtual CPUs (default 2)" },
  accel: { type: "string", value: "auto|kvm|tcg", description: "accelerator (default auto)" },
  share: { type: "string", value: "DIR", description: "share a host folder (mounted at /mnt/host)" },
  cold: { type: "boolean", description: "boot from the first instruction (no saved state resumed or saved)" },
} as const;

/** BootOptions from the shared VM flags. */
export function bootOptionsFromArgs(args: ParsedArgs): BootOptions {
  const accel = stringOption(args, "accel");
  if (accel !== undefined && !["auto", "kvm", "tcg"].includes(accel)) throw new UsageError(`--accel must be auto, kvm or tcg, not '${accel}'.`);
  return {
    image: stringOption(args, "image"),
    kernel: stringOption(args, "kernel"),
    linux: stringOption(args, "linux"),
    initrd: stringOption(args, "initrd"),
    append: stringOption(args, "append"),
    memory: numberOption(args, "memory"),
    smp: numberOption(args, "smp"),
    accel: accel as BootOptions["accel"],
    share: stringOption(args, "share"),
    cold: Boolean(args.values.cold),
    onProgress: terminalProgress("boot"),
  };
}

export const bootCommand: Command = {
  name: "boot",
  summary: "Boot a guest: run a command in it, or attach a shell to its console",
  usage: "kbook boot [options] [--shell | -- COMMAND [ARG...]]",
  description:
    "Without a command and without --shell, boots, prints how it booted and powers off.\n" +
    "With --shell your terminal becomes the guest's serial console (Ctrl-] detaches).",
  options: {
    ...vmOptions,
    shell: { type: "boolean", description: "attach your terminal to the guest's serial console" },
    gdb: { type: "boolean", description: "start a gdbstub on 127.0.0.1 (port printed)" },
    timeout: { type: "string", value: "DURATION", description: "command timeout, e.g. 30s" },
  },
  async run(args) {
    const options = bootOptionsFromArgs(args);
    const { bootVm } = await import("../../boot/index.js");
    const { attachShell } = await import("../../boot/shell.js");
    if (args.values.shell) {
      if (args.positionals.length) throw new UsageError("--shell and a command cannot be combined.");
      await attachShell(options);
      return 0;
    }
    const vm = await bootVm({ ...options, gdb: Boolean(args.values.gdb) });
    try {
      process.stderr.write(`[boot] qemu: ${vm.commandLine}\n`);
      if (vm.gdbPort) process.stderr.write(`[boot] gdbstub listening on 127.0.0.1:${vm.gdbPort}\n`);
      if (!args.positionals.length) return 0;
      const timeout = stringOption(args, "timeout");
      const result = await vm.exec(args.positionals, {
        reject: false,
        timeoutMs: timeout ? parseDuration(timeout) : undefined,
        onStdout: (c) => process.stdout.write(c),
        onStderr: (c) => process.stderr.write(c),
      });
      return result.exitCode ?? 128;
    } finally {
      await vm.shutdown();
    }
  },
};

/**
 * %%gdb: each line of the cell is a gdb command sent to the VM's gdb session (attached to QEMU's
 * gdbstub), printed with its output as in a gdb console. Lines starting with # are comments.
 */
import { UsageError } from "../../lib/errors/index.js";
import type { GdbSessionLike, KernelVm } from "./current-vm.js";
import { VM_OPTION, type Magic } from "./registry.js";

const sessions = new WeakMap<KernelVm, Promise<GdbSessionLike>>();

/** The gdb session %%gdb opened for `vm`, if it did (completion asks it; it never opens one). */
export function existingGdbSession(vm: KernelVm): Promise<GdbSessionLike> | undefined {
  return sessions.get(vm);
}

export const gdbMagic: Magic = {
  name: "gdb",
  summary: "send the cell's lines to the VM's gdb session",
  usage: "%%gdb [--vm NAME] [--out NAME]",
  options: { vm: VM_OPTION },
  resultType: "{ command: string; output: string }[]",
  async run(context) {
    const vm = await context.vm();
    const gdb = vm.gdb?.bind(vm);
    if (!gdb) throw new UsageError("This VM has no gdb session (vm.gdb).", { hint: "Boot the VM with its gdbstub enabled." });
    let session = sessions.get(vm);
    if (!session) {
      session = Promise.resolve(gdb());
      sessions.set(vm, session);
      session.catch(() => sessions.delete(vm));
    }
    const gdbSession = await session;
    const transcript: { command: string; output: string }[] = [];
    for (const line of context.body.split("\n").map((l) => l.trim())) {
      if (!line || line.startsWith("#")) continue;
      if (context.signal.aborted) break;
      context.stdout(`(gdb) ${line}\n`);
      const output = await gdbSession.command(line);
      if (output) context.stdout(output.endsWith("\n") ? output : output + "\n");
      transcript.push({ command: line, output });
    }
    return { value: transcript, show: false };
  },
};

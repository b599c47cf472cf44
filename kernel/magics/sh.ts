/**
 * %%sh: the cell body is a shell script run in the guest (the notebook's current VM, or --vm),
 * its output streaming into the cell as it arrives. An interrupt sends SIGINT to the guest
 * command's process group (the Guest contract), so `sleep 100` or a tracer stops.
 */
import { KbookError } from "../../lib/errors/index.js";
import type { Magic } from "./registry.js";
import { chunkWriter, VM_OPTION } from "./registry.js";

export const shMagic: Magic = {
  name: "sh",
  summary: "run the cell as a shell script in the guest",
  usage: "%%sh [--vm NAME] [--out NAME]",
  options: { vm: VM_OPTION },
  resultType: 'import("kbook").GuestExecResult',
  async run(context) {
    const vm = await context.vm();
    const result = await vm.exec(context.body, {
      onStdout: chunkWriter(context.stdout),
      onStderr: chunkWriter(context.stderr),
      signal: context.signal,
      reject: false,
    });
    const failed = !context.signal.aborted && result.exitCode !== 0;
    const how = result.timedOut ? "timed out" : result.exitCode === null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
    const failure = failed ? new KbookError(`The %%sh script ${how} in the guest.`, { hint: "Its output is above; the result is bound to _ (and --out) all the same." }) : undefined;
    return { value: result, show: false, failure };
  },
};

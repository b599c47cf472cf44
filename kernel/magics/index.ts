/**
 * The cell magics the kernel knows. To add one, write a module exporting a Magic and list it here.
 */
import { bpftraceMagic } from "./bpftrace.js";
import { gdbMagic } from "./gdb.js";
import { hostMagic } from "./host.js";
import { perfMagic } from "./perf.js";
import { MagicRegistry } from "./registry.js";
import { shMagic } from "./sh.js";

export function defaultMagics(): MagicRegistry {
  return new MagicRegistry().register(shMagic).register(hostMagic).register(bpftraceMagic).register(perfMagic).register(gdbMagic);
}

export { completeMagicCell, type MagicCompletion } from "./completion.js";
export { MagicRegistry, parseMagicCell, tokenizeMagicLine } from "./registry.js";
export type { Magic, MagicContext, MagicResult } from "./registry.js";
export { CurrentVm, type KernelVm } from "./current-vm.js";

/**
 * gdb for kbook: a GDB/MI parser, a typed gdb driver (GdbSession), kernel symbols (vmlinux,
 * Debian -dbg, or an ELF written from kallsyms) and connectGdb for QEMU's gdbstub.
 */
export { parseMiLine, decodeMiCString, quoteMiArgument, MiSyntaxError, type MiRecord, type MiValue, type MiTuple, type MiResultClass } from "./mi.js";
export { GdbError, GdbTimeoutError, type MiCommandResult } from "./mi-channel.js";
export { GdbSession, type GdbSessionOptions, type GdbTargetState } from "./session.js";
export type { GdbBreakpoint, Location } from "./breakpoint.js";
export {
  describeStop,
  renderStopDisplay,
  ARGUMENT_REGISTERS,
  type GdbStop,
  type GdbFrame,
  type GdbArgument,
  type GdbRegisterArgument,
} from "./stop.js";
export { valueToData, type GdbValue, type GdbVariable } from "./values.js";
export type { SourceExcerpt } from "./source.js";
export { parseKallsyms, type KallsymsSymbol } from "./kallsyms.js";
export { buildSymbolElf, type SymbolElfSection, type SymbolElfOptions } from "./symbol-elf.js";
export { resolveKernelSymbols, type KernelSymbols, type KernelSymbolOptions, type KernelSymbolSource } from "./symbols.js";
export { fetchDebianDebugVmlinux, extractDebugVmlinux } from "./debian-dbg.js";
export { connectGdb, checkKernelAddresses, type GdbTarget, type AddressCheck } from "./connect.js";
export { runInteractiveGdb, type InteractiveGdbOptions } from "./interactive.js";

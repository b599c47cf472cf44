/**
 * A VM from an image it is given: the QEMU command line, supervision, the guest kit, the boot
 * and the running guest. It neither builds nor looks up images: lib/images does that, and
 * lib/boot's `bootVm` composes the two.
 */
export { startVm } from "./start.js";
export { planBoot, decideBoot, materializeBoot, type VmOptions, type BootPlan, type BootKernel, type OwnKernel, type BootDecision, type BootSources } from "./plan.js";
export {
  listSavedStates,
  findSavedState,
  removeSavedState,
  removeSavedStatesOf,
  pruneSavedStates,
  statesDir,
  stateKey,
  type SavedState,
  type SavedStateManifest,
} from "./saved-state.js";
export { ResumeError } from "./resume.js";
export { Vm, gdbTargetOf } from "./vm.js";
export { checkKernelFile, type BootableImage, type ImageLayout } from "./image.js";
export { supervisedArgv, launchQemu, freeLocalPort, type QemuProcess } from "./qemu-process.js";
export { guestKit, type GuestKitMode } from "./kit.js";
export { buildQemuArgv, kernelCommandLine, formatCommandLine, qemuEscape, AGENT_PORT_NAME, DEFAULT_APPEND, type QemuPlan } from "./argv.js";
export { ConsoleMonitor, type PanicReport, type OomKill } from "./console.js";
export { QmpClient } from "./qmp.js";
export { GuestPanicError, BootTimeoutError, QemuExitedError, BootInterruptedError, VmNotRunningError, GuestOutOfMemoryError, GuestDiskFullError } from "./errors.js";

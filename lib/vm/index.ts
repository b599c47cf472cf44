export { bootVm, planBoot, freeLocalPort, supervisedArgv, type BootOptions, type BootPlan } from "./boot.js";
export { Vm } from "./vm.js";
export { buildQemuArgv, kernelCommandLine, formatCommandLine, qemuEscape, AGENT_PORT_NAME, DEFAULT_APPEND, type QemuPlan } from "./argv.js";
export { ConsoleMonitor, type PanicReport } from "./console.js";
export { QmpClient } from "./qmp.js";
export type { ImageRef, BootableImage } from "./image-ref.js";
export type * from "./guest.js";

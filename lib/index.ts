/**
 * kbook's public API: `import { bootVm, buildImage, renderFlameGraph } from "kbook"`.
 * Each concern lives in its own folder under lib/ and is re-exported here.
 */
export * from "./errors/index.js";
export * from "./progress/index.js";
export * from "./vm/index.js";
export * from "./images/index.js";
export { runDoctor, formatDoctorReport, type DoctorReport } from "./system/doctor.js";
export { detectAccel, type AccelDecision } from "./system/accel.js";
export * from "./agent/index.js";
export * from "./gdb/index.js";
export * from "./flamegraph/index.js";
export * from "./perf/index.js";
export * from "./bpftrace/index.js";
export * from "./viz/index.js";
export * from "./export/index.js";

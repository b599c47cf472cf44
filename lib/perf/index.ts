/**
 * perf → folded stacks → Profile: a streaming `perf script` collapser (stackcollapse-perf.pl's
 * output, byte for byte), input checks, and `perf record` in a guest or on the host.
 */
export { PerfScriptCollapser, type CollapseOptions, type CollapseStats } from "./collapse.js";
export { collapsePerfScript, collapsePerfScriptFile, collapsePerfScriptFileParallel, collapsePerfScriptStream, type CollapseResult } from "./collapse-input.js";
export { checkPerfScriptHead, collapseProblem, collapseWarnings, detectTextKind, isBinary, isPerfData, type ProfileInputKind } from "./input.js";
export { Profile, type ProfileInfo, type TopFunction } from "./profile.js";
export { PerfPermissionError, PERF_PERMISSION_HINT, perfRecordArgv, type PerfRecordOptions } from "./perf-command.js";
export { recordPerf } from "./record.js";
export { recordPerfOnHost, type HostPerfRecordOptions } from "./record-host.js";
export { collapsePerfData } from "./perf-data.js";

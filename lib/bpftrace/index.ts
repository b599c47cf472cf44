/**
 * bpftrace in the guest: run programs, get typed maps/histograms/stacks back, and show them as
 * tables, charts and flame graphs. Parsers for bpftrace's JSON and text output work without a VM.
 */
export { bpftrace, bpftraceTag, programFromTemplate, runBpftrace, applyStackMode } from "./run.js";
export type { BpftraceRunOptions, StackMode } from "./run.js";
export { listProbes, ProbeList } from "./probes.js";
export { BpftraceResult, parseBpftraceJson, parseBpftraceOutput, parseBpftraceText } from "./result.js";
export type { BpftraceRunInfo, StopReason } from "./result.js";
export { StackCounts, isStackCountMap } from "./stacks.js";
export type { StackRow } from "./stacks.js";
export { BpftraceJsonStream, parseJsonRecords } from "./json.js";
export type { ParseOptions } from "./json.js";
export { parseTextRecords } from "./text.js";
export { frameFunction, parseMapKey } from "./keys.js";
export { bucketLabel, histogramSvg, histogramText } from "./display.js";
export { closestNames, editDistance, parseDiagnostics, renderDiagnostic } from "./diagnostics.js";
export { explainFailure, missingProbe } from "./failure.js";
export {
  BpftraceKernelError,
  BpftraceMissingError,
  BpftraceOutputError,
  BpftraceProbeError,
  BpftraceProgramError,
  BpftraceRunError,
} from "./errors.js";
export type { BpftraceDiagnostic, MissingKernelFeature } from "./errors.js";
export type * from "./types.js";

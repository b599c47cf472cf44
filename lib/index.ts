/**
 * kbook's public API: `import { bootVm, buildImage, renderFlameGraph } from "kbook"`.
 *
 * Chosen, not accumulated: this is what a notebook or a script should use, each name listed on
 * purpose (test/api.test.ts pins the list, and the README's "API" section documents it). The
 * rest of lib/ is kbook's own business and may change without notice; a name moves here only
 * when a user needs it.
 */

// Guests: boot one (building its image on first use), then run commands, move files, profile,
// trace and debug it through the Vm.
export { bootVm, type BootOptions, type ImageRef } from "./boot/index.js";
export { Vm, type BootKernel, type OwnKernel } from "./vm/index.js";
// Saved states: booted guests kept so that later boots of the same configuration resume.
export { listSavedStates, removeSavedState, type SavedState, type SavedStateManifest } from "./vm/index.js";
export type { Guest, GuestExecOptions, GuestExecResult, GuestInfo } from "./guest/index.js";

// Images: recipes, the content-addressed cache.
export { buildImage, listImages, findImage, removeImage, resolveImageSpec, recipeKinds } from "./images/index.js";
export type { ImageSpec, BuildOptions, ImageManifest, StoredImage, DebianRecipe, BusyboxRecipe, AlpineRecipe } from "./images/index.js";
export { cacheRoot } from "./paths.js";

// Your own kernel: build it from source, change it, boot it (bootVm({ linux })), debug it.
export { buildLinux, listLinuxBuilds, resolveLinuxBuild, removeLinuxBuild, applyPatch, LinuxBuildError } from "./linux/index.js";
export type { LinuxBuild, LinuxBuildOptions, LinuxManifest, LinuxConfigOptions } from "./linux/index.js";

// perf and flame graphs.
export { Profile, recordPerfOnHost, collapsePerfScript, collapsePerfScriptFile, collapsePerfData } from "./perf/index.js";
export type { ProfileInfo, TopFunction, PerfRecordOptions, HostPerfRecordOptions, CollapseOptions, CollapseResult, CollapseStats } from "./perf/index.js";
export { FoldedStacks, parseFolded, renderFlameGraph, diffFolded } from "./flamegraph/index.js";
export type { FlameGraphOptions, PaletteName, DiffFoldedOptions, DiffFoldedResult } from "./flamegraph/index.js";

// bpftrace: results of vm.bpftrace, and parsers for saved output.
export { BpftraceResult, StackCounts, ProbeList, parseBpftraceOutput, parseBpftraceJson, parseBpftraceText } from "./bpftrace/index.js";
export type { BpftraceRunOptions, BpftraceRunInfo, StackRow, StackMode } from "./bpftrace/index.js";

// gdb on the kernel (vm.gdb() is the usual way in; connectGdb for a gdbstub of your own).
export { GdbSession, connectGdb, resolveKernelSymbols } from "./gdb/index.js";
export type { GdbStop, GdbFrame, GdbArgument, GdbBreakpoint, GdbTarget, GdbValue, GdbVariable, SourceExcerpt, KernelSymbols } from "./gdb/index.js";

// Notebooks: displays, headless runs, HTML export.
export { JUPYTER_DISPLAY, displayable, isDisplayable, vegaLiteChart } from "./viz/index.js";
export type { Displayable, MimeBundle, VegaLiteSpec } from "./viz/index.js";
export { runNotebook, type RunNotebookOptions, type RunNotebookResult } from "./notebooks/run.js";
export { exportNotebook, exportNotebookFile, type ExportOptions, type ExportResult } from "./export/index.js";

// The machine: what kbook needs and which accelerator QEMU gets.
export { runDoctor, formatDoctorReport, type DoctorReport } from "./system/doctor.js";
export { detectAccel, type AccelDecision } from "./system/accel.js";

// Progress and durations.
export { formatDuration, parseDuration, type ProgressEvent, type ProgressListener } from "./progress/index.js";

// Errors: one class per failure family a caller may want to tell apart.
export { KbookError, UsageError, ToolError, isKbookError } from "./errors/index.js";
export { GuestPanicError, BootTimeoutError, QemuExitedError, BootInterruptedError, VmNotRunningError, GuestOutOfMemoryError, GuestDiskFullError } from "./vm/index.js";
export { AgentError, AgentUnresponsiveError, GuestCommandError } from "./agent/index.js";
export { GdbError, GdbTimeoutError } from "./gdb/index.js";
export { PerfPermissionError } from "./perf/index.js";
export {
  BpftraceKernelError,
  BpftraceMissingError,
  BpftraceOutputError,
  BpftraceProbeError,
  BpftraceProgramError,
  BpftraceRunError,
} from "./bpftrace/index.js";

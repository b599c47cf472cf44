/**
 * The public API, pinned: what `import … from "kbook"` offers, values and types. A change here is
 * a change of kbook's contract with notebooks and scripts: make it on purpose, update the list
 * and the README's "API" section together.
 */
import { describe, expect, it } from "vitest";
import ts from "typescript";

const VALUES = [
    "AgentError", "AgentUnresponsiveError", "BootInterruptedError", "BootTimeoutError", "BpftraceKernelError",
    "BpftraceMissingError", "BpftraceOutputError", "BpftraceProbeError", "BpftraceProgramError",
    "BpftraceResult", "BpftraceRunError", "FoldedStacks", "GdbError", "GdbSession",
    "GdbTimeoutError", "GuestCommandError", "GuestDiskFullError", "GuestOutOfMemoryError", "GuestPanicError", "JUPYTER_DISPLAY", "KbookError",
    "LinuxBuildError", "PerfPermissionError", "ProbeList", "Profile", "QemuExitedError",
    "StackCounts", "ToolError", "UsageError", "Vm", "VmNotRunningError", "applyPatch", "bootVm",
    "buildImage", "buildLinux", "cacheRoot", "collapsePerfData", "collapsePerfScript",
    "collapsePerfScriptFile", "connectGdb", "detectAccel", "diffFolded", "displayable",
    "exportNotebook", "exportNotebookFile", "findImage", "formatDoctorReport", "formatDuration",
    "isDisplayable", "isKbookError", "listImages", "listLinuxBuilds", "listSavedStates", "parseBpftraceJson",
    "parseBpftraceOutput", "parseBpftraceText", "parseDuration", "parseFolded", "recipeKinds",
    "recordPerfOnHost", "removeImage", "removeLinuxBuild", "removeSavedState", "renderFlameGraph", "resolveImageSpec",
    "resolveKernelSymbols", "resolveLinuxBuild", "runDoctor", "runNotebook", "vegaLiteChart",
];

const TYPES = [
    "AccelDecision", "AlpineRecipe", "BootKernel", "BootOptions", "BpftraceRunInfo",
    "BpftraceRunOptions", "BuildOptions", "BusyboxRecipe", "CollapseOptions", "CollapseResult",
    "CollapseStats", "DebianRecipe", "DiffFoldedOptions", "DiffFoldedResult", "Displayable",
    "DoctorReport", "ExportOptions", "ExportResult", "FlameGraphOptions", "GdbArgument",
    "GdbBreakpoint", "GdbFrame", "GdbStop", "GdbTarget", "GdbValue", "GdbVariable", "Guest",
    "GuestExecOptions", "GuestExecResult", "GuestInfo", "HostPerfRecordOptions", "ImageManifest",
    "ImageRef", "ImageSpec", "KernelSymbols", "LinuxBuild", "LinuxBuildOptions",
    "LinuxConfigOptions", "LinuxManifest", "MimeBundle", "OwnKernel", "PaletteName",
    "PerfRecordOptions", "ProfileInfo", "ProgressEvent", "ProgressListener", "RunNotebookOptions",
    "RunNotebookResult", "SavedState", "SavedStateManifest", "SourceExcerpt", "StackMode", "StackRow", "StoredImage", "TopFunction",
    "VegaLiteSpec",
];

/** The names lib/index.ts exports, as the TypeScript compiler sees them. */
function exportedNames(): { values: string[]; types: string[] } {
  const file = "lib/index.ts";
  const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const values: string[] = [];
  const types: string[] = [];
  for (const symbol of checker.getExportsOfModule(module)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.getName());
  }
  return { values: values.sort(), types: types.sort() };
}

describe("public API", () => {
  it("exports exactly the listed names", () => {
    const { values, types } = exportedNames();
    expect(values).toEqual([...VALUES].sort());
    expect(types).toEqual([...TYPES].sort());
  });

  it("loads at run time with every listed value defined", async () => {
    const api = (await import("../lib/index.js")) as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...VALUES].sort());
    for (const name of VALUES) expect(api[name], name).toBeDefined();
  });
});

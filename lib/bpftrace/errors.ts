/**
 * The ways a bpftrace run goes wrong, one class each, written for the person who typed the
 * program: what bpftrace said, where in their program, and what to do.
 */
import { KbookError, ToolError, UsageError } from "../errors/index.js";

/** bpftrace output (JSON lines or text) that does not parse. */
export class BpftraceOutputError extends UsageError {
  /** 1-based line number in the output. */
  readonly line: number;
  constructor(line: number, problem: string, lineText: string, format: "json" | "text") {
    super(`bpftrace ${format} output, line ${line}: ${problem}`, {
      detail: `line ${line}: ${excerpt(lineText)}`,
      hint:
        format === "json"
          ? "Each line of `bpftrace -f json` output is one JSON record; a cut-off last line usually means bpftrace was killed while printing its maps."
          : "Text output is parsed as bpftrace 0.17 prints it (@name[key]: value, histograms, stacks).",
    });
    this.line = line;
  }
}

/** One message bpftrace printed about the program, with its position when it gave one. */
export interface BpftraceDiagnostic {
  level: "ERROR" | "WARNING" | "HINT" | "FATAL";
  message: string;
  /** 1-based line in the program. */
  line?: number;
  /** Last line, for messages that span lines. */
  endLine?: number;
  /** 1-based column where the marked range starts. */
  column?: number;
  /** Column where the marked range ends (bpftrace's end column). */
  endColumn?: number;
}

/** The program did not compile: syntax or semantic errors, shown against the program text. */
export class BpftraceProgramError extends UsageError {
  readonly diagnostics: BpftraceDiagnostic[];
  readonly program: string;
  constructor(message: string, options: { diagnostics: BpftraceDiagnostic[]; program: string; detail: string; hint?: string }) {
    super(message, { detail: options.detail, hint: options.hint ?? "Fix the program at the marked position and run it again." });
    this.diagnostics = options.diagnostics;
    this.program = options.program;
  }
}

/** A probe in the program does not exist in the guest kernel. */
export class BpftraceProbeError extends UsageError {
  /** The probe as written (e.g. "kprobe:task_tick_fiar"). */
  readonly probe: string;
  /** Existing probe names closest to it, best first. */
  readonly suggestions: string[];
  constructor(probe: string, suggestions: string[], options: { detail?: string; stderr: string }) {
    super(`bpftrace: probe '${probe}' does not exist in the guest kernel.`, {
      detail: [options.detail, suggestions.length ? `closest probes:\n${suggestions.map((s) => `  ${s}`).join("\n")}` : undefined]
        .filter(Boolean)
        .join("\n"),
      hint: suggestions.length
        ? `Did you mean ${suggestions[0]}? List probes with vm.probes("${probe.split(":")[0]}:*pattern*").`
        : `List the probes that exist with vm.probes("${probe.split(":")[0]}:*") (bpftrace -l).`,
    });
    this.probe = probe;
    this.suggestions = suggestions;
  }
}

/** What the guest kernel lacks for the program to run. */
export type MissingKernelFeature = "btf" | "kfunc" | "kprobes" | "tracefs" | "tracepoints";

/** The guest kernel cannot run this kind of probe (no BTF, no kprobes, tracefs not mounted…). */
export class BpftraceKernelError extends ToolError {
  readonly missing: MissingKernelFeature;
  constructor(missing: MissingKernelFeature, message: string, options: { hint: string; stderrTail: string }) {
    super("bpftrace", message, { hint: options.hint, stderrTail: options.stderrTail });
    this.missing = missing;
  }
}

/** bpftrace failed for a reason not recognised above; its stderr is kept. */
export class BpftraceRunError extends ToolError {}

/** bpftrace is not installed in the guest. */
export class BpftraceMissingError extends KbookError {
  constructor(recipe: string) {
    super(`bpftrace is not installed in the guest (image '${recipe}').`, {
      hint: "Boot an image that includes bpftrace (the debian image does), or install it in the image recipe.",
    });
  }
}

function excerpt(text: string, max = 200): string {
  const flat = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return flat.slice(1, -1);
}

/**
 * Turning a failed bpftrace run into the error a learner needs: a mistake in the program (shown
 * at its line and column), a probe that does not exist (with the nearest names that do), or a
 * kernel that lacks what the probe needs (BTF, kprobes, a mounted tracefs) and what to do about it.
 */
import type { KbookError } from "../errors/index.js";
import type { Guest } from "../guest/index.js";
import { closestNames, markedText, parseDiagnostics, renderDiagnostic } from "./diagnostics.js";
import {
  BpftraceKernelError,
  BpftraceMissingError,
  BpftraceProbeError,
  BpftraceProgramError,
  BpftraceRunError,
  type BpftraceDiagnostic,
} from "./errors.js";
import { tail } from "../errors/index.js";

export interface FailedRun {
  program: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
}

/** Files whose presence tells what the guest kernel offers bpftrace. */
const FEATURE_FILES = {
  btf: "/sys/kernel/btf/vmlinux",
  tracefs: "/sys/kernel/tracing/events",
  kprobeEvents: "/sys/kernel/tracing/kprobe_events",
} as const;

// A fixed script (nothing from the program goes into it) that prints the feature files present.
const FEATURE_SCRIPT = `for f in ${Object.values(FEATURE_FILES).join(" ")}; do [ -e "$f" ] && echo "$f"; done; true`;

/** Which of FEATURE_FILES exist in the guest. */
export async function guestFeatures(guest: Guest): Promise<Set<string>> {
  const result = await guest.exec(FEATURE_SCRIPT, { reject: false, timeoutMs: 30_000 });
  return new Set(result.stdout.split("\n").filter(Boolean));
}

/** Extracts the probe bpftrace could not find, as written in the program, or undefined. */
export function missingProbe(program: string, diagnostics: BpftraceDiagnostic[]): string | undefined {
  for (const d of diagnostics) {
    const attach = /Error attaching probe: '?([^'\s]+)'?/.exec(d.message);
    if (attach) return attach[1];
    const tracepoint = /^tracepoint not found: (\S+)/.exec(d.message);
    if (tracepoint) return `tracepoint:${tracepoint[1]}`;
    if (/^No BTF found for |^Failed to resolve kfunc args|is not a (software|hardware) probe/.test(d.message)) {
      const marked = markedText(program, d);
      if (marked) return marked.replace(/\s*[{/].*$/, "");
      const fn = /^No BTF found for (?:\S+:)?(\S+)/.exec(d.message);
      if (fn) {
        // bpftrace 0.17 gives no position here; the provider is the one the program wrote.
        const written = new RegExp(`\\b(k(?:ret)?func:(?:[\\w.-]+:)?${fn[1]!.replace(/[^\w]/g, "\\$&")})\\b`).exec(program);
        return written ? written[1] : `kfunc:${fn[1]}`;
      }
    }
  }
  return undefined;
}

/** The error for a failed run; may look inside the guest (feature files, probe lists). */
export async function explainFailure(guest: Guest, run: FailedRun): Promise<KbookError> {
  const { diagnostics, other } = parseDiagnostics(run.stderr, run.program);
  const stderrTail = tail(run.stderr, 25);
  const all = `${run.stderr}`;
  if (run.exitCode === 127 || /bpftrace: (command )?not found|No such file or directory.*bpftrace|exec.*bpftrace.*ENOENT/i.test(all)) {
    return new BpftraceMissingError(guest.info.recipe);
  }

  const kernel = await kernelProblem(guest, all, stderrTail);
  if (kernel) return kernel;

  const probe = missingProbe(run.program, diagnostics);
  if (probe) {
    const suggestions = await suggestProbes(guest, probe).catch(() => []);
    const marked = diagnostics.find((d) => d.line && d.level === "WARNING");
    return new BpftraceProbeError(probe, suggestions, {
      stderr: run.stderr,
      detail: marked ? renderDiagnostic(run.program, marked) : undefined,
    });
  }

  const errors = diagnostics.filter((d) => (d.level === "ERROR" || d.level === "FATAL") && !/RLIMIT_MEMLOCK/.test(d.message));
  const located = errors.filter((d) => d.line !== undefined);
  if (located.length) {
    const first = located[0]!;
    const where = `line ${first.line}${first.column ? `, column ${first.column}` : ""}`;
    const more = located.length > 1 ? ` (and ${located.length - 1} more error${located.length > 2 ? "s" : ""})` : "";
    return new BpftraceProgramError(`bpftrace: ${first.message} (${where})${more}`, {
      diagnostics: located,
      program: run.program,
      detail: located.map((d) => renderDiagnostic(run.program, d)).join("\n\n"),
    });
  }

  const first = errors[0];
  const how = run.exitCode !== null ? `exited with code ${run.exitCode}` : `was killed by ${run.signal ?? "a signal"}`;
  return new BpftraceRunError("bpftrace", `bpftrace ${how}${first ? `: ${first.message}` : "."}`, {
    exitCode: run.exitCode ?? undefined,
    stderrTail: first ? [...other.slice(-10), stderrTail].join("\n") : stderrTail,
    hint: "The lines above are bpftrace's own output; run the program with vm.exec(['bpftrace', '-v', …]) for more detail.",
  });
}

async function kernelProblem(guest: Guest, stderr: string, stderrTail: string): Promise<KbookError | undefined> {
  const needsKfunc = /kfunc\/kretfunc not available for your kernel|BTF .*not (found|available)|Failed to (load|parse) BTF/i.test(stderr);
  const needsTracefs = /(kprobe_events|available_filter_functions|available_events|\/events\/).*No such file or directory|tracepoint not found/.test(stderr);
  if (!needsKfunc && !needsTracefs) return undefined;
  const present = await guestFeatures(guest);
  const release = guest.info.kernelRelease;
  if (needsKfunc) {
    if (!present.has(FEATURE_FILES.btf)) {
      return new BpftraceKernelError("btf", `The guest kernel ${release} has no BTF type information (${FEATURE_FILES.btf} is missing), so kfunc/kretfunc probes cannot attach.`, {
        hint: "Use kprobe:/kretprobe: instead, or boot an image whose kernel is built with CONFIG_DEBUG_INFO_BTF=y (the debian image's kernel is).",
        stderrTail,
      });
    }
    return new BpftraceKernelError("kfunc", `The guest kernel ${release} has BTF but bpftrace cannot attach kfunc/kretfunc probes (fentry needs CONFIG_FUNCTION_TRACER and BPF trampolines, x86-64 and kernel 5.5 or later).`, {
      hint: "Use kprobe:/kretprobe: probes for this kernel.",
      stderrTail,
    });
  }
  if (!present.has(FEATURE_FILES.tracefs)) {
    return new BpftraceKernelError("tracefs", "tracefs is not mounted in the guest at /sys/kernel/tracing, so bpftrace cannot create kprobes or find tracepoints.", {
      hint: "Mount it in the guest (mount -t tracefs nodev /sys/kernel/tracing) or boot an image whose init does; kbook's images mount it at boot.",
      stderrTail,
    });
  }
  if (/kprobe_events/.test(stderr) && !present.has(FEATURE_FILES.kprobeEvents)) {
    return new BpftraceKernelError("kprobes", `The guest kernel ${release} cannot create kprobes (no ${FEATURE_FILES.kprobeEvents}: CONFIG_KPROBES or CONFIG_KPROBE_EVENTS is off).`, {
      hint: "Use tracepoint: probes, or boot a kernel built with CONFIG_KPROBES=y and CONFIG_KPROBE_EVENTS=y (the debian image's kernel is).",
      stderrTail,
    });
  }
  return undefined;
}

/** Probe names close to `probe`, from `bpftrace -l` over the same provider. */
export async function suggestProbes(guest: Guest, probe: string): Promise<string[]> {
  const provider = probe.split(":")[0];
  if (!provider) return [];
  const result = await guest.exec(["bpftrace", "-l", `${provider}:*`], { reject: false, timeoutMs: 120_000 });
  const names = result.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  return closestNames(probe, names);
}

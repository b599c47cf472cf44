/**
 * The `perf record` command line kbook runs (in a guest or on the host) and what its failures
 * mean. Pure: the adapters in record.ts and record-host.ts run it.
 */
import { parseDuration } from "../progress/index.js";
import { ToolError, UsageError, tail } from "../errors/index.js";
import type { ProgressListener } from "../progress/index.js";
import type { CollapseOptions } from "./collapse.js";

export interface PerfRecordOptions {
  /**
   * The workload: argv, or a shell script string (run with /bin/sh -c). Without one, perf
   * samples the whole system for `duration`.
   */
  command?: readonly string[] | string;
  /** Sampling frequency in Hz (perf record -F; default 999). */
  frequency?: number;
  /** Sample all CPUs (-a; default true). */
  allCpus?: boolean;
  /** Record call chains: true or "fp" (-g, the default), "dwarf", "lbr"; false for none. */
  callGraph?: boolean | "fp" | "dwarf" | "lbr";
  /**
   * How long to record: seconds, or text like "5s", "500ms". Without a command it is how long
   * to sample the system (default 5 s); with one, the command is stopped (SIGINT) after it.
   */
  duration?: number | string;
  /** The event to sample (perf record -e), e.g. "cpu-clock". Default: perf's choice. */
  event?: string;
  /** Aborting stops the recording like Ctrl-C; the samples taken so far are still returned. */
  signal?: AbortSignal;
  /**
   * Collapse options (pid, tid, kernel, jit, all, addrs, eventFilter). Default: annotations on
   * (`all`), so that kernel, JIT and inlined frames are told apart in the graph.
   */
  collapse?: CollapseOptions;
  /** Also keep the perf.data file at this host path. */
  keepData?: string;
  onProgress?: ProgressListener;
}

/** An argv as a person would type it (for messages and the profile's source line). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** `perf record` and `perf script` failed in a way that is about permissions. */
export class PerfPermissionError extends ToolError {}

/** Seconds to record, from the duration option. */
export function durationSeconds(duration: number | string | undefined): number | undefined {
  if (duration === undefined) return undefined;
  const seconds = typeof duration === "number" ? duration : parseDuration(duration, "perf duration") / 1000;
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`The perf duration must be positive, got '${duration}'.`);
  return seconds;
}

/** The argv that records into `output`, including the workload. */
export function perfRecordArgv(options: PerfRecordOptions, output: string, perf = "perf"): string[] {
  const frequency = options.frequency ?? 999;
  if (!Number.isInteger(frequency) || frequency <= 0) {
    throw new UsageError(`The sampling frequency must be a positive whole number of Hz, got '${frequency}'.`);
  }
  const argv = [perf, "record", "-o", output, "-F", String(frequency)];
  if (options.allCpus ?? true) argv.push("-a");
  const callGraph = options.callGraph ?? true;
  if (callGraph === true || callGraph === "fp") argv.push("-g");
  else if (callGraph) argv.push("--call-graph", callGraph);
  if (options.event) argv.push("-e", options.event);
  argv.push("--");
  const seconds = durationSeconds(options.duration);
  const command = options.command;
  const workload = command === undefined ? undefined : typeof command === "string" ? ["/bin/sh", "-c", command] : [...command];
  if (workload && workload.length === 0) throw new UsageError("The perf command is empty.", { hint: "Give a command to profile, or none and a duration." });
  if (!workload) argv.push("sleep", String(seconds ?? 5));
  else if (seconds !== undefined) argv.push("timeout", "-s", "INT", String(seconds), ...workload);
  else argv.push(...workload);
  return argv;
}

const PERMISSION = /perf_event_paranoid|Permission denied|Access to performance monitoring|No permission to enable|EACCES|Operation not permitted/i;

export const PERF_PERMISSION_HINT =
  "Allow perf to sample the kernel: sysctl -w kernel.perf_event_paranoid=-1 kernel.kptr_restrict=0 " +
  "(or run as root / with CAP_PERFMON). 'kbook doctor' shows both settings.";

/** Turns a failed `perf record` into an error that says what to do. */
export function perfFailure(where: string, stderr: string, exitCode: number | null): ToolError {
  const detail = tail(stderr, 15);
  if (exitCode === 127 || /perf: (command )?not found|No such file or directory.*perf|exec: "?perf/i.test(stderr)) {
    return new ToolError("perf", `perf is not installed ${where}.`, {
      exitCode: exitCode ?? undefined,
      stderrTail: detail,
      hint: "Install perf (Debian: apt-get install linux-perf) or use an image that includes it.",
    });
  }
  if (/not found for kernel/i.test(stderr)) {
    return new ToolError("perf", `perf does not match the running kernel ${where}.`, {
      exitCode: exitCode ?? undefined,
      stderrTail: detail,
      hint: "Install the linux-perf package built for this kernel version.",
    });
  }
  if (PERMISSION.test(stderr)) {
    return new PerfPermissionError("perf", `perf is not allowed to record ${where} (perf_event_paranoid / kptr_restrict).`, {
      exitCode: exitCode ?? undefined,
      stderrTail: detail,
      hint: PERF_PERMISSION_HINT,
    });
  }
  return new ToolError("perf", `perf record failed ${where} (exit code ${exitCode ?? "signal"}).`, {
    exitCode: exitCode ?? undefined,
    stderrTail: detail,
  });
}

/** Warnings perf prints that matter for reading the profile (restricted kernel symbols…). */
export function perfWarnings(stderr: string): string[] {
  const warnings: string[] = [];
  if (/kptr_restrict|Kernel address maps .* are restricted/i.test(stderr)) {
    warnings.push(`Kernel symbols are hidden (kptr_restrict): kernel frames may show as [unknown]. ${PERF_PERMISSION_HINT}`);
  }
  const lost = /Processed \d+ events and lost (\d+) chunks/.exec(stderr);
  if (lost) warnings.push(`perf lost ${lost[1]} chunks of samples (try a lower frequency).`);
  return warnings;
}

/** The number of samples perf reports having written, if it said. */
export function perfCapturedSamples(stderr: string): number | undefined {
  const m = /Captured and wrote [\d.]+ \w+ .*\((\d+) samples\)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

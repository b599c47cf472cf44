/**
 * `perf record` on the host (perf works here as root, sampling cpu-clock), with the same options
 * and result as in a guest: record to a temporary file, stream `perf script` into the collapser.
 */
import { mkdtemp, rm, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { ProgressReporter } from "../progress/index.js";
import { collapsePerfData } from "./perf-data.js";
import { formatArgv, perfCapturedSamples, perfFailure, perfRecordArgv, perfWarnings, type PerfRecordOptions } from "./perf-command.js";
import { Profile } from "./profile.js";

export interface HostPerfRecordOptions extends PerfRecordOptions {
  /** The perf binary (default "perf" from PATH). */
  perf?: string;
}


/** Records a profile of the host and returns it. */
export async function recordPerfOnHost(options: HostPerfRecordOptions = {}): Promise<Profile> {
  const progress = new ProgressReporter(options.onProgress);
  const perf = options.perf ?? "perf";
  const dir = await mkdtemp(join(tmpdir(), "kbook-perf-"));
  const data = join(dir, "perf.data");
  try {
    const argv = perfRecordArgv(options, data, perf);
    const shown = formatArgv(["perf", ...argv.slice(1).filter((_, i) => i !== 1 && i !== 2)]);
    progress.report("perf record", shown);
    const record = execa(argv[0]!, argv.slice(1), { reject: false, stdin: "ignore", stdout: "ignore" });
    // Ctrl-C semantics: perf stops, writes what it has, and stops the workload.
    const onAbort = () => record.kill("SIGINT");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const recorded = await record;
    options.signal?.removeEventListener("abort", onAbort);
    const stderr = String(recorded.stderr ?? "");
    const captured = perfCapturedSamples(stderr);
    if (captured === undefined) {
      throw perfFailure("on the host", recorded.failed && recorded.code === "ENOENT" ? `${perf}: not found` : stderr, recorded.exitCode ?? null);
    }
    const warnings = perfWarnings(stderr);
    if (recorded.exitCode !== 0 && !options.signal?.aborted) warnings.push(`The profiled command exited with status ${recorded.exitCode ?? recorded.signal}.`);
    if (options.keepData) await copyFile(data, options.keepData);

    progress.report("perf script", `${captured} samples`);
    const { folded, stats, warnings: more } = await collapsePerfData(data, { all: true, ...options.collapse }, perf);
    warnings.push(...more);
    progress.report("perf", `${stats.samples} samples, ${folded.size} stacks`, { done: true });
    return new Profile(folded, { source: `host: ${shown}`, event: stats.event, rootIsProcess: true, warnings, colors: "java" });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

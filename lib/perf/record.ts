/**
 * `perf record` inside a guest: record to a file in the guest, run `perf script` there, stream
 * its text back through the Guest interface and collapse it on the host as it arrives.
 */
import { randomBytes } from "node:crypto";
import { ProgressReporter } from "../progress/index.js";
import type { Guest } from "../guest/index.js";
import { PerfScriptCollapser } from "./collapse.js";
import { collapseProblem, collapseWarnings } from "./input.js";
import { formatArgv, perfCapturedSamples, perfFailure, perfRecordArgv, perfWarnings, type PerfRecordOptions } from "./perf-command.js";
import { Profile } from "./profile.js";

export type { PerfRecordOptions } from "./perf-command.js";


/** Records a profile in the guest and returns it. */
export async function recordPerf(guest: Guest, options: PerfRecordOptions = {}): Promise<Profile> {
  const progress = new ProgressReporter(options.onProgress);
  const data = `/tmp/kbook-perf-${randomBytes(6).toString("hex")}.data`;
  const argv = perfRecordArgv(options, data);
  const shown = formatArgv(argv.filter((_, i) => i < 2 || i > 3));
  progress.report("perf record", shown);
  try {
    const record = await guest.exec(argv, { signal: options.signal, reject: false });
    const captured = perfCapturedSamples(record.stderr);
    // perf writes its data when stopped by SIGINT (an abort) and when the workload fails, and
    // says so; without that line the recording itself failed.
    if (captured === undefined) throw perfFailure("in the guest", record.stderr, record.exitCode);
    const warnings = perfWarnings(record.stderr);
    if (record.exitCode !== 0 && !record.interrupted) warnings.push(`The profiled command exited with status ${record.exitCode ?? record.signal}.`);
    if (options.keepData) await guest.copyOut(data, options.keepData);

    progress.report("perf script", `${captured} samples`);
    const collapseOptions = { all: true, ...options.collapse };
    const collapser = new PerfScriptCollapser(collapseOptions);
    const script = await guest.exec(["perf", "script", "-i", data], {
      reject: false,
      onStdout: (chunk) => collapser.push(chunk),
    });
    if (script.exitCode !== 0) throw perfFailure("in the guest (perf script)", script.stderr, script.exitCode);
    const folded = collapser.end();
    const problem = collapseProblem(collapser.stats, collapseOptions.eventFilter, "The perf script output");
    if (problem) throw problem;
    warnings.push(...perfWarnings(script.stderr), ...collapseWarnings(collapser.stats));
    progress.report("perf", `${collapser.stats.samples} samples, ${folded.size} stacks`, { done: true });
    return new Profile(folded, { source: `guest: ${shown}`, event: collapser.stats.event, rootIsProcess: true, warnings, colors: "java" });
  } finally {
    await guest.exec(["rm", "-f", data], { reject: false }).catch(() => undefined);
  }
}

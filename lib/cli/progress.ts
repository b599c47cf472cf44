/**
 * Progress on the terminal: one line per stage change, with the elapsed time, written to stderr
 * so stdout stays clean for data (folded stacks, paths).
 */
import type { ProgressEvent, ProgressListener } from "../progress/index.js";
import { formatDuration } from "../progress/index.js";

export function terminalProgress(prefix = "kbook"): ProgressListener {
  let last = "";
  return (event: ProgressEvent) => {
    const line = `[${prefix}] ${formatDuration(event.elapsedMs).padStart(8)}  ${event.stage}${event.message ? `: ${event.message}` : ""}`;
    if (line === last) return;
    last = line;
    process.stderr.write(line + "\n");
  };
}

/**
 * Progress reporting shared by long operations (image builds, boots, perf and bpftrace runs).
 * Operations take an optional `onProgress` callback; the CLI renders events on the terminal and
 * the Jupyter kernel renders them as a display that updates in place.
 */
export interface ProgressEvent {
  /** Short name of the current stage, e.g. "mmdebstrap", "mke2fs", "boot". */
  stage: string;
  /** Human sentence for this moment, e.g. "installing linux-image-amd64". */
  message?: string;
  /** Milliseconds since the operation started. */
  elapsedMs: number;
  /** 0..1 when known. */
  fraction?: number;
  /** True for the final event of the operation. */
  done?: boolean;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** Tracks elapsed time from construction and forwards stage events to a listener. */
export class ProgressReporter {
  private readonly started = Date.now();
  constructor(private readonly listener?: ProgressListener) {}

  report(stage: string, message?: string, extra: Partial<Pick<ProgressEvent, "fraction" | "done">> = {}): void {
    this.listener?.({ stage, message, elapsedMs: this.elapsed(), ...extra });
  }

  elapsed(): number {
    return Date.now() - this.started;
  }
}

/** Formats milliseconds as "1.2 s" or "2 min 05 s". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${min} min ${String(s).padStart(2, "0")} s`;
}

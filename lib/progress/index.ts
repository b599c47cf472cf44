/**
 * Progress reporting shared by long operations (image builds, boots, perf and bpftrace runs).
 * Operations take an optional `onProgress` callback; the CLI renders events on the terminal and
 * the Jupyter kernel renders them as a display that updates in place.
 */
import { UsageError } from "../errors/index.js";

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

  /**
   * The listener for an operation that runs as one step of this one (an image build inside a
   * boot): its events keep this operation's clock, and its end is not this operation's end.
   */
  nested(): ProgressListener | undefined {
    const listener = this.listener;
    if (!listener) return undefined;
    return ({ done: _done, ...event }) => listener({ ...event, elapsedMs: this.elapsed() });
  }
}

/** Formats milliseconds as "1.2 s" or "2 min 05 s". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${min} min ${String(s).padStart(2, "0")} s`;
}

/** Formats a size as "1.2 GiB" or "3.4 MiB". */
export function formatBytes(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/** Parses "5s", "500ms", "2m", "1.5" (seconds) into milliseconds. */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$/.exec(text);
  if (!m) throw new UsageError(`Invalid ${what} '${text}'.`, { hint: "Write it like 5s, 500ms or 2m." });
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000);
}

/**
 * The display functions cells get as globals (declared for the type checker in
 * assets/kernel/cell-globals.d.ts): display() with handles that update in place, clearOutput(),
 * progressDisplay() for kbook's ProgressEvent, and cellSignal().
 */
import { randomUUID } from "node:crypto";
import type { ProgressEvent } from "../../lib/progress/index.js";
import { formatDuration } from "../../lib/progress/index.js";
import { escapeHtml } from "../../lib/viz/escape.js";
import type { OutputRouter } from "../output.js";
import { toMimeBundle, type BundleOptions } from "./bundle.js";

export interface DisplayOptions extends BundleOptions {
  id?: string;
}

export interface DisplayHandle {
  readonly id: string;
  update(value: unknown, options?: Omit<DisplayOptions, "id">): void;
}

export interface DisplayFunction {
  (value: unknown, options?: DisplayOptions): DisplayHandle;
  html(html: string, options?: DisplayOptions): DisplayHandle;
  markdown(markdown: string, options?: DisplayOptions): DisplayHandle;
  svg(svg: string, options?: DisplayOptions): DisplayHandle;
  json(value: unknown, options?: DisplayOptions): DisplayHandle;
}

export interface ProgressDisplay {
  (event: ProgressEvent): void;
  readonly handle: DisplayHandle;
  done(message?: string): void;
}

export interface CellApi {
  display: DisplayFunction;
  clearOutput(wait?: boolean): void;
  progressDisplay(title?: string): ProgressDisplay;
  cellSignal(): AbortSignal;
}

/**
 * Handles and progress displays a cell created. A cell ending in `display(x)` shows x once (as
 * display_data), not again as the handle being the cell's value.
 */
const displayObjects = new WeakSet<object>();

export function isDisplayObject(value: unknown): boolean {
  return (typeof value === "object" || typeof value === "function") && value !== null && displayObjects.has(value);
}

/** Updates of a progress display are sent at most this often (stage changes and the end always go). */
const PROGRESS_INTERVAL_MS = 250;

export function createCellApi(router: OutputRouter, currentSignal: () => AbortSignal, reportError: (error: unknown) => void): CellApi {
  const show = (value: unknown, options: DisplayOptions, id: string, update: boolean) => {
    const rendered = toMimeBundle(value, options);
    if (rendered instanceof Promise) {
      router.track(rendered.then((r) => router.display(r.data, r.metadata, id, update), reportError));
    } else {
      router.display(rendered.data, rendered.metadata, id, update);
    }
  };
  const handleFor = (id: string): DisplayHandle => {
    const handle = { id, update: (value: unknown, options: Omit<DisplayOptions, "id"> = {}) => show(value, options, id, true) };
    displayObjects.add(handle);
    return handle;
  };
  const display = ((value: unknown, options: DisplayOptions = {}) => {
    const id = options.id ?? randomUUID();
    show(value, options, id, false);
    return handleFor(id);
  }) as DisplayFunction;
  const rawDisplay = (type: string) => (content: unknown, options: DisplayOptions = {}) => display({ [type]: content }, { ...options, raw: true });
  display.html = rawDisplay("text/html");
  display.markdown = rawDisplay("text/markdown");
  display.svg = rawDisplay("image/svg+xml");
  display.json = rawDisplay("application/json");

  const progressDisplay = (title = "progress"): ProgressDisplay => {
    const started = Date.now();
    let latest: ProgressEvent = { stage: "starting", elapsedMs: 0 };
    let sentStage = "";
    let sentAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let sentDeferred: (() => void) | undefined;
    const handle = display(progressBundle(title, latest), { raw: true });
    const send = () => {
      clearTimeout(timer);
      timer = undefined;
      sentStage = latest.stage;
      sentAt = Date.now();
      handle.update(progressBundle(title, latest), { raw: true });
      sentDeferred?.();
      sentDeferred = undefined;
    };
    const listener = ((event: ProgressEvent) => {
      latest = event;
      if (event.done || event.stage !== sentStage || Date.now() - sentAt >= PROGRESS_INTERVAL_MS) {
        send();
      } else if (!timer) {
        timer = setTimeout(send, PROGRESS_INTERVAL_MS);
        // The deferred update is an output of the cell too: it goes out before the cell's idle.
        router.track(new Promise<void>((resolve) => (sentDeferred = resolve)));
      }
    }) as ProgressDisplay;
    Object.defineProperty(listener, "handle", { value: handle });
    displayObjects.add(listener);
    listener.done = (message?: string) => {
      latest = { ...latest, message: message ?? latest.message, done: true, fraction: 1, elapsedMs: Date.now() - started };
      send();
    };
    return listener;
  };

  return {
    display,
    clearOutput: (wait = false) => router.clear(wait),
    progressDisplay,
    cellSignal: currentSignal,
  };
}

/** One line: title, stage and message, a bar when the fraction is known, elapsed time. */
export function progressBundle(title: string, event: ProgressEvent): Record<string, string> {
  const fraction = event.fraction === undefined ? undefined : Math.min(1, Math.max(0, event.fraction));
  const what = `${event.stage}${event.message ? `: ${event.message}` : ""}`;
  const elapsed = formatDuration(event.elapsedMs);
  const mark = event.done ? "✔" : "…";
  const bar = fraction === undefined ? "" : ` [${"#".repeat(Math.round(fraction * 20)).padEnd(20, ".")}] ${Math.round(fraction * 100)}%`;
  const htmlBar = fraction === undefined ? "" : ` <progress value="${fraction.toFixed(3)}" max="1" style="vertical-align:middle"></progress> ${Math.round(fraction * 100)}%`;
  return {
    "text/plain": `${mark} ${title} — ${what}${bar} (${elapsed})`,
    "text/html": `<div class="kbook-progress"><span>${mark}</span> <b>${escapeHtml(title)}</b> — ${escapeHtml(what)}${htmlBar} <span style="opacity:.7">(${escapeHtml(elapsed)})</span></div>`,
  };
}

/**
 * Globals the kbook Jupyter kernel gives every cell (type declarations; the kernel's
 * kernel/display and kernel/runtime modules implement them).
 */

/** A MIME bundle: MIME type → data, e.g. { "text/html": "<b>hi</b>", "text/plain": "hi" }. */
type KbookMimeBundle = Record<string, unknown>;

interface KbookDisplayOptions {
  /** A display id: a later display(value, { id }) or handle.update() replaces this output in place. */
  id?: string;
  /** The value is already a MIME bundle. */
  raw?: boolean;
  /** Output metadata, e.g. { "image/png": { width: 400 } }. */
  metadata?: Record<string, unknown>;
}

interface KbookDisplayHandle {
  readonly id: string;
  /** Replaces the displayed output everywhere it is shown (update_display_data). */
  update(value: unknown, options?: Omit<KbookDisplayOptions, "id">): void;
}

interface KbookDisplay {
  /**
   * Shows a value below the cell: objects with a [Symbol.for("Jupyter.display")]() method show
   * their own bundle (a flame graph, a chart…); other values show as text.
   */
  (value: unknown, options?: KbookDisplayOptions): KbookDisplayHandle;
  html(html: string, options?: KbookDisplayOptions): KbookDisplayHandle;
  markdown(markdown: string, options?: KbookDisplayOptions): KbookDisplayHandle;
  svg(svg: string, options?: KbookDisplayOptions): KbookDisplayHandle;
  json(value: unknown, options?: KbookDisplayOptions): KbookDisplayHandle;
}

/**
 * The shape of kbook's ProgressEvent (lib/progress), spelled out rather than imported: importing
 * "kbook" here would make every cell's type check load kbook's whole API, imported or not.
 */
interface KbookProgressEvent {
  stage: string;
  message?: string;
  elapsedMs: number;
  fraction?: number;
  done?: boolean;
}

/** A progress listener (pass it as onProgress) that draws an updating progress line under the cell. */
interface KbookProgressDisplay {
  (event: KbookProgressEvent): void;
  readonly handle: KbookDisplayHandle;
  /** Marks the display finished (shows the final message and elapsed time). */
  done(message?: string): void;
}

declare const display: KbookDisplay;

/** Clears the cell's output (with `wait`, when the next output arrives). */
declare function clearOutput(wait?: boolean): void;

/**
 * A display that follows a long operation's progress:
 * `await buildImage("debian", { onProgress: progressDisplay("image") })`.
 */
declare function progressDisplay(title?: string): KbookProgressDisplay;

/**
 * The running cell's AbortSignal: aborted when the user interrupts the kernel. Pass it to
 * kbook helpers ({ signal: cellSignal() }) so an interrupt stops guest commands and waits.
 */
declare function cellSignal(): AbortSignal;

/**
 * Asks the frontend for a line of input (Jupyter's input_request), like Python's input(): the
 * prompt shows under the cell and the promise resolves with what was typed. Fails with a clear
 * error where the frontend does not take input (allow_stdin false, as in headless runs).
 */
declare function input(prompt?: string): Promise<string>;
/** As input(), with what is typed hidden (a password field in the frontend). */
declare function password(prompt?: string): Promise<string>;

/**
 * Errors are designed, not thrown ad hoc: one class per failure family, a message written for
 * the person reading it (what failed, with what input), a `hint` saying what to do, and the raw
 * facts kept as fields. The CLI and the Jupyter kernel print `message` and `hint` for a
 * KbookError and never a stack trace; any other error is a bug and is shown with its stack.
 */
export class KbookError extends Error {
  /** What the user can do about it, one or two sentences. */
  readonly hint?: string;
  /** Extra detail shown under the message (e.g. a tool's stderr tail, console lines). */
  readonly detail?: string;

  constructor(message: string, options: { hint?: string; detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.detail = options.detail;
  }

  /** The text a person should see: message, detail, hint. */
  describe(): string {
    const parts = [this.message];
    if (this.detail) parts.push(this.detail.replace(/\s+$/, ""));
    if (this.hint) parts.push(`hint: ${this.hint}`);
    return parts.join("\n");
  }
}

/** Bad input from the user: a wrong option, path, program text or file. */
export class UsageError extends KbookError {}

/** A system tool kbook drives (qemu, mmdebstrap, mke2fs, perf, gdb…) failed. */
export class ToolError extends KbookError {
  readonly tool: string;
  readonly exitCode?: number;
  readonly stderrTail?: string;
  constructor(
    tool: string,
    message: string,
    options: { exitCode?: number; stderrTail?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(message, { hint: options.hint, detail: options.stderrTail, cause: options.cause });
    this.tool = tool;
    this.exitCode = options.exitCode;
    this.stderrTail = options.stderrTail;
  }
}

/** The last `lines` lines of a text, for error details. */
export function tail(text: string, lines = 20): string {
  const all = text.replace(/\s+$/, "").split("\n");
  return all.slice(-lines).join("\n");
}

/** True for errors that are the user's to fix (shown without a stack). */
export function isKbookError(error: unknown): error is KbookError {
  return error instanceof KbookError;
}

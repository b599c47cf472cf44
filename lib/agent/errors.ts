/**
 * The two ways a guest call fails: the command itself failed (GuestCommandError, which carries
 * its result), or the channel to the guest did (AgentError: closed, not answering, protocol).
 */
import { KbookError, tail } from "../errors/index.js";
import type { GuestCommandFailure, GuestExecResult } from "../guest/index.js";

/** The guest agent channel failed: closed, not answering, or speaking another protocol. */
export class AgentError extends KbookError {}

/** A guest command exited non-zero, was killed by a signal, timed out or was interrupted. */
export class GuestCommandError extends KbookError implements GuestCommandFailure {
  readonly result: GuestExecResult;

  constructor(result: GuestExecResult, options: { what?: string; hint?: string } = {}) {
    const stderr = tail(result.stderr, 15);
    super(`${options.what ?? `Guest command ${describeCommand(result.argv)}`} ${describeOutcome(result)}.`, {
      detail: stderr ? `stderr:\n${stderr}` : undefined,
      hint: options.hint,
    });
    this.result = result;
  }
}

/** How a command ended, as the end of a sentence ("failed with exit code 2"). */
export function describeOutcome(result: GuestExecResult): string {
  const how =
    result.signal !== null
      ? `was killed by ${result.signal}`
      : result.exitCode !== null
        ? `exited with code ${result.exitCode}`
        : "ended in an unknown state";
  if (result.timedOut) return `timed out after ${Math.round(result.durationMs)} ms and ${how}`;
  if (result.interrupted) return `was interrupted and ${how}`;
  return result.exitCode !== null && result.exitCode !== 0 ? `failed: it ${how}` : how;
}

/** `ls -l /tmp` or `sh -c 'script…'`, short enough for one line. */
export function describeCommand(argv: readonly string[]): string {
  const shown = argv.length === 3 && argv[0] === "/bin/sh" && argv[1] === "-c" ? argv[2]! : argv.map(quoteArg).join(" ");
  const oneLine = shown.replace(/\s*\n\s*/g, "; ");
  return `\`${oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine}\``;
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

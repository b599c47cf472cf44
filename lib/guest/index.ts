/**
 * The contract between a running guest and everything that works inside it (perf, bpftrace,
 * gdb, notebooks). Modules depend on this interface, not on the QEMU process class, so they can
 * be written and reasoned about without knowing how the VM was started.
 */
import type { KbookError } from "../errors/index.js";

export interface GuestExecOptions {
  /** Kill the command (SIGINT, then SIGKILL after `killGraceMs`) after this many ms. */
  timeoutMs?: number;
  /** Aborting sends SIGINT to the guest process group, then SIGKILL after `killGraceMs`. */
  signal?: AbortSignal;
  /** Time between SIGINT and SIGKILL when stopping a command (default 3000 ms). */
  killGraceMs?: number;
  /** Bytes written to the command's stdin, then stdin is closed. Default: empty stdin. */
  input?: string | Uint8Array;
  env?: Record<string, string>;
  cwd?: string;
  /** Called with each stdout chunk as it arrives. */
  onStdout?: (chunk: Uint8Array) => void;
  /** Called with each stderr chunk as it arrives. */
  onStderr?: (chunk: Uint8Array) => void;
  /**
   * Throw a GuestCommandError when the command exits non-zero, times out or is interrupted
   * (default true, as execa does). With `false` the result says what happened.
   */
  reject?: boolean;
}

export interface GuestExecResult {
  /** The argv that ran (a script runs as ["/bin/sh", "-c", script]). */
  argv: string[];
  /** Exit code, or null when the process was killed by a signal. */
  exitCode: number | null;
  /** Signal name ("SIGINT", "SIGKILL"…) when killed by one, else null. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Raw stdout bytes, for binary output. */
  stdoutBytes: Uint8Array;
  durationMs: number;
  timedOut: boolean;
  /** True when stopped through `signal` (the caller's AbortSignal). */
  interrupted: boolean;
}

/** A running guest that can run commands and move files. */
export interface Guest {
  /** argv runs directly; a string runs as a /bin/sh script. */
  exec(command: readonly string[] | string, options?: GuestExecOptions): Promise<GuestExecResult>;
  /** Copy a host file (path) or bytes into the guest at `guestPath`. Binary-safe. */
  copyIn(source: string | Uint8Array, guestPath: string, options?: { mode?: number }): Promise<void>;
  /** Read a guest file. With `hostPath` it is written there too. Binary-safe. */
  copyOut(guestPath: string, hostPath?: string): Promise<Uint8Array>;
  /** Facts about the guest kernel and image, known once the guest is up. */
  readonly info: GuestInfo;
  /**
   * Non-null while the guest CPUs are halted by a debugger: calls that need the guest then fail
   * after their timeout with an error that says so instead of hanging.
   */
  readonly stoppedReason: string | null;
}

export interface GuestInfo {
  /** `uname -r` in the guest. */
  kernelRelease: string;
  /** Name of the image recipe, e.g. "debian" or "busybox". */
  recipe: string;
  /** Path of the image directory on the host (read-only base). */
  imageDir: string;
  /** Host path of the kernel symbol table (kallsyms format), when the image has one. */
  kallsymsPath?: string;
  /** Host path of the kernel QEMU booted (bzImage or vmlinux). */
  kernelPath: string;
  /** Whether KASLR is off (nokaslr on the command line), so addresses are stable across boots. */
  nokaslr: boolean;
}

/** A guest command failed (non-zero exit, timeout, interrupt). */
export interface GuestCommandFailure extends KbookError {
  readonly result: GuestExecResult;
}

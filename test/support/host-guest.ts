/**
 * The host as a Guest: commands really run on this machine, with the Guest contract's stop
 * semantics (SIGINT on abort or timeout, repeated every 2 s, SIGKILL after the grace time), so
 * the guest code paths of perf and bpftrace run for real without a VM. Not a mock. Also: whether
 * perf and bpftrace (0.17, the guest's version) can run here.
 */
import { execa, execaSync } from "execa";
import { readFile, writeFile, chmod } from "node:fs/promises";
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import type { Guest, GuestExecOptions, GuestExecResult, GuestInfo } from "../../lib/guest/index.js";

export class HostGuest implements Guest {
  readonly stoppedReason = null;
  readonly info: GuestInfo = {
    kernelRelease: execFileSync("uname", ["-r"]).toString().trim(),
    recipe: "host",
    imageDir: "/",
    kernelPath: "",
    nokaslr: false,
  };

  async exec(command: readonly string[] | string, options: GuestExecOptions = {}): Promise<GuestExecResult> {
    const argv = typeof command === "string" ? ["/bin/sh", "-c", command] : [...command];
    const started = Date.now();
    const child = execa(argv[0]!, argv.slice(1), {
      cancelSignal: options.signal,
      killSignal: "SIGINT",
      forceKillAfterDelay: options.killGraceMs ?? 3000,
      timeout: options.timeoutMs,
      reject: false,
      env: options.env,
      cwd: options.cwd,
      input: options.input === undefined ? undefined : typeof options.input === "string" ? options.input : Buffer.from(options.input),
      encoding: "buffer",
      stripFinalNewline: false,
    });
    // Ctrl-C again every 2 s, as the guest agent does (bpftrace can miss a first SIGINT).
    let repeat: NodeJS.Timeout | undefined;
    options.signal?.addEventListener("abort", () => (repeat = setInterval(() => child.kill("SIGINT"), 2000)), { once: true });
    child.stdout?.on("data", (chunk: Buffer) => options.onStdout?.(chunk));
    child.stderr?.on("data", (chunk: Buffer) => options.onStderr?.(chunk));
    const r = await child;
    clearInterval(repeat);
    const stdoutBytes = new Uint8Array(r.stdout as unknown as Buffer);
    // Like the guest agent (and a shell): 127 for a program that does not exist.
    const missing = (r as { code?: string }).code === "ENOENT";
    const result: GuestExecResult = {
      argv,
      exitCode: missing ? 127 : (r.exitCode ?? null),
      signal: r.signal ?? null,
      stdout: Buffer.from(stdoutBytes).toString(),
      stderr: Buffer.from(r.stderr as unknown as Buffer).toString(),
      stdoutBytes,
      durationMs: Date.now() - started,
      timedOut: Boolean(r.timedOut),
      interrupted: Boolean(r.isCanceled),
    };
    if ((options.reject ?? true) && (result.exitCode !== 0 || result.timedOut || result.interrupted)) {
      throw new Error(`host command failed: ${argv.join(" ")} (exit ${result.exitCode})\n${result.stderr}`);
    }
    return result;
  }

  async copyIn(source: string | Uint8Array, guestPath: string, options: { mode?: number } = {}): Promise<void> {
    await writeFile(guestPath, typeof source === "string" ? await readFile(source) : source);
    if (options.mode !== undefined) await chmod(guestPath, options.mode);
  }

  async copyOut(guestPath: string, hostPath?: string): Promise<Uint8Array> {
    const bytes = await readFile(guestPath);
    if (hostPath) await writeFile(hostPath, bytes);
    return bytes;
  }
}

/** bpftrace runs on this host when it is installed and we are root. */
export const hostHasBpftrace = existsSync("/usr/bin/bpftrace") && process.getuid?.() === 0;

/** `perf record -a` works on this host when perf is installed and we are root. */
export function hostHasPerf(): boolean {
  return process.getuid?.() === 0 && execaSync("perf", ["--version"], { reject: false }).exitCode === 0;
}

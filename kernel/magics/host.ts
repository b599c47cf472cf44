/**
 * %%host: the cell body is a bash script run on the host (the notebook author's own script, run
 * as `bash -c BODY`; nothing from the magic line is interpolated into it). Output streams into
 * the cell. It runs in its own process group so an interrupt stops the script's children too.
 */
import { execa } from "execa";
import { KbookError } from "../../lib/errors/index.js";
import type { Magic } from "./registry.js";
import { chunkWriter } from "./registry.js";

/** Grace between SIGINT and SIGKILL when a %%host cell is interrupted. */
const KILL_GRACE_MS = 2000;

export interface HostScriptResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export const hostMagic: Magic = {
  name: "host",
  summary: "run the cell as a bash script on the host",
  usage: "%%host [--out NAME]",
  options: {},
  resultType: "{ exitCode: number | null; signal: string | null; stdout: string; stderr: string; durationMs: number }",
  async run(context) {
    const started = Date.now();
    const child = execa("bash", ["-c", context.body], { reject: false, stdin: "ignore", detached: true, stripFinalNewline: false });
    child.stdout?.on("data", chunkWriter(context.stdout));
    child.stderr?.on("data", chunkWriter(context.stderr));
    const stop = () => {
      if (child.pid === undefined) return;
      killGroup(child.pid, "SIGINT");
      setTimeout(() => killGroup(child.pid!, "SIGKILL"), KILL_GRACE_MS).unref();
    };
    context.signal.addEventListener("abort", stop, { once: true });
    try {
      const result = await child;
      const value: HostScriptResult = {
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        stdout: String(result.stdout ?? ""),
        stderr: String(result.stderr ?? ""),
        durationMs: Date.now() - started,
      };
      const failed = !context.signal.aborted && value.exitCode !== 0;
      const how = value.exitCode === null ? `was killed by ${value.signal}` : `exited with status ${value.exitCode}`;
      const failure = failed ? new KbookError(`The %%host script ${how}.`, { hint: "Its output is above; the result is bound to _ (and --out) all the same." }) : undefined;
      return { value, show: false, failure };
    } finally {
      context.signal.removeEventListener("abort", stop);
    }
  },
};

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

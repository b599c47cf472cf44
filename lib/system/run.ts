/**
 * The one way kbook runs a host tool: execa with an argv array (never a shell string built from
 * input), and a failure turned into a ToolError that names the tool, the stage and the tail of
 * its stderr, so a failed image build says which step broke and why.
 */
import { execa, type Options } from "execa";
import { ToolError, tail } from "../errors/index.js";

export interface RunToolOptions {
  /** Stage name for the error message (e.g. "mmdebstrap"). */
  stage?: string;
  cwd?: string;
  env?: Record<string, string>;
  input?: string | Uint8Array;
  signal?: AbortSignal;
  /** Called with each stderr line (progress parsing). */
  onStderrLine?: (line: string) => void;
  /** Called with each stdout line. */
  onStdoutLine?: (line: string) => void;
  /** Hint added to the error when the tool fails. */
  hint?: string;
  /** Return stdout as a Buffer instead of text. */
  binary?: boolean;
}

export interface RunToolResult {
  stdout: string;
  stdoutBytes?: Uint8Array;
  stderr: string;
}

export async function runTool(file: string, args: readonly string[], options: RunToolOptions = {}): Promise<RunToolResult> {
  const execaOptions: Options = {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    input: options.input === undefined ? undefined : typeof options.input === "string" ? options.input : Buffer.from(options.input),
    cancelSignal: options.signal,
    reject: false,
    encoding: options.binary ? "buffer" : "utf8",
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: "ignore" as const } : {}),
  };
  const child = execa(file, args, execaOptions);
  if (options.onStderrLine) lineSplitter(child.stderr, options.onStderrLine);
  if (options.onStdoutLine) lineSplitter(child.stdout, options.onStdoutLine);
  const result = await child;
  const stderr = typeof result.stderr === "string" ? result.stderr : Buffer.from(result.stderr as Uint8Array).toString();
  const stage = options.stage ?? file;
  if (result.failed) {
    if (result.isCanceled) throw new ToolError(file, `${stage}: interrupted.`, { stderrTail: tail(stderr) });
    const missing = (result as { code?: string }).code === "ENOENT";
    throw new ToolError(
      file,
      missing
        ? `${stage}: '${file}' is not installed.`
        : `${stage} failed: ${file} ${result.exitCode !== undefined ? `exited with code ${result.exitCode}` : `was killed (${result.signal ?? "unknown"})`}.`,
      {
        exitCode: result.exitCode,
        stderrTail: tail(stderr, 20),
        hint: missing ? "Run 'kbook doctor --install' to install kbook's system dependencies." : options.hint,
      },
    );
  }
  if (options.binary) {
    const bytes = result.stdout as unknown as Uint8Array;
    return { stdout: "", stdoutBytes: bytes, stderr };
  }
  return { stdout: String(result.stdout), stderr };
}

function lineSplitter(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let pending = "";
  stream.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split(/\r?\n|\r/);
    pending = lines.pop() ?? "";
    for (const line of lines) if (line) onLine(line);
  });
  stream.on("end", () => {
    if (pending) onLine(pending);
  });
}

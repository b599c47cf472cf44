/**
 * Running bpftrace in a guest. The program goes to bpftrace as one argv element (`-e PROGRAM`),
 * never through a shell. Output is `-f json`, parsed as it streams so printf text reaches the
 * caller live. bpftrace prints its maps when it gets SIGINT, so every way of stopping it early —
 * the duration running out, the caller's AbortSignal — is a SIGINT through the Guest's exec
 * AbortSignal (SIGKILL only if it has not finished `stopGraceMs` later), and the maps come back.
 */
import { parseDuration } from "../progress/index.js";
import { KbookError, UsageError, tail } from "../errors/index.js";
import { ProgressReporter, type ProgressListener } from "../progress/index.js";
import type { Guest } from "../guest/index.js";
import { parseDiagnostics } from "./diagnostics.js";
import { explainFailure } from "./failure.js";
import { BpftraceJsonStream } from "./json.js";
import { BpftraceResult, type StopReason } from "./result.js";
import type { BpftraceRecord } from "./types.js";

/** How kstack/ustack print frames: bpftrace's own layout, or perf's ("\t<addr> sym+off"). */
export type StackMode = "bpftrace" | "perf" | "raw";

export interface BpftraceRunOptions {
  /** Stop after this long once the probes are attached: milliseconds, or "5s", "500ms", "2m". */
  duration?: number | string;
  /** Positional parameters ($1, $2…). */
  args?: readonly (string | number)[];
  /** Stack layout for bare `kstack`/`ustack` in the program. */
  stackMode?: StackMode;
  /** Aborting stops bpftrace with SIGINT; the maps printed on exit are still returned. */
  signal?: AbortSignal;
  /** Text printed by printf()/time()/join()/cat()/system() and print(value), as it arrives. */
  onPrintf?: (text: string) => void;
  /** Every record as it arrives (maps printed by print() or interval probes included). */
  onRecord?: (record: BpftraceRecord) => void;
  onProgress?: ProgressListener;
  /** Time bpftrace gets to print its maps after SIGINT before SIGKILL (default 30 s: TCG is slow). */
  stopGraceMs?: number;
  /** Hard limit for the whole run (default: duration + 3 min for start-up, none without a duration). */
  timeoutMs?: number;
  /** The bpftrace binary in the guest. */
  bpftrace?: string;
}

/** Runs a bpftrace program in the guest and returns its typed output. */
export async function runBpftrace(guest: Guest, program: string, options: BpftraceRunOptions = {}): Promise<BpftraceResult> {
  if (typeof program !== "string" || program.trim() === "") {
    throw new UsageError("The bpftrace program is empty.", { hint: "Pass a program such as 'kprobe:task_tick_fair { @[kstack] = count(); }'." });
  }
  const durationMs = options.duration === undefined ? undefined : typeof options.duration === "number" ? options.duration : parseDuration(options.duration);
  if (durationMs !== undefined && !(durationMs >= 0)) throw new UsageError(`Invalid duration ${String(options.duration)}.`, { hint: "Give milliseconds or text like 5s." });
  const text = options.stackMode ? applyStackMode(program, options.stackMode) : program;
  const args = (options.args ?? []).map(String);
  // A duration ends the run from inside bpftrace, with an interval probe that calls exit(), as a
  // program that stops itself does: the maps are printed on the way out. Stopping it with SIGINT
  // instead was measured to leave bpftrace hanging in about one run in six under TCG here; the
  // signal stays for interrupts, and as a fallback if the timer probe did not end the run.
  const timed = durationMs !== undefined && durationMs >= 1;
  const runText = timed ? `${text}\ninterval:ms:${Math.round(durationMs)} { exit(); }` : text;
  const argv = [options.bpftrace ?? "bpftrace", "-f", "json", "-e", runText, ...(args.length ? ["--", ...args] : [])];
  const progress = new ProgressReporter(options.onProgress);

  const stop = new AbortController();
  let stopReason: StopReason | undefined;
  let stoppedAt: number | undefined;
  let attachedAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stopWith = (reason: StopReason): void => {
    if (stopReason) return;
    stopReason = reason;
    stoppedAt = Date.now();
    progress.report("bpftrace", reason === "duration" ? "duration reached, stopping (SIGINT)" : "interrupted, stopping (SIGINT)");
    stop.abort();
  };
  const onCallerAbort = (): void => stopWith("interrupted");
  if (options.signal?.aborted) stopWith("interrupted");
  options.signal?.addEventListener("abort", onCallerAbort, { once: true });

  const records: BpftraceRecord[] = [];
  const decoder = new TextDecoder();
  const stream = new BpftraceJsonStream(
    (record) => {
      // The duration's interval probe is kbook's, not the program's.
      if (timed && record.type === "attached_probes") record.probes -= 1;
      records.push(record);
      if (record.type === "attached_probes" && attachedAt === undefined) {
        attachedAt = Date.now();
        const probes = record.probes;
        progress.report("bpftrace", `${probes} probe${probes === 1 ? "" : "s"} attached${durationMs !== undefined ? `, tracing for ${(durationMs / 1000).toFixed(1)} s` : ""}`);
        // The duration counts from attachment (bpftrace's own start-up takes seconds under TCG),
        // as the interval probe's does; SIGINT only if bpftrace has not ended 10 s after it.
        if (durationMs !== undefined) timer = setTimeout(() => stopWith("duration"), timed ? durationMs + 10_000 : durationMs);
      }
      if (options.onPrintf) {
        if (record.type === "text") options.onPrintf(record.source === "join" ? `${record.text}\n` : record.text);
        else if (record.type === "value") options.onPrintf(`${typeof record.value === "object" ? JSON.stringify(record.value) : record.value}\n`);
      }
      options.onRecord?.(record);
    },
    { strict: false },
  );

  progress.report("bpftrace", "starting bpftrace");
  const started = Date.now();
  let result;
  try {
    result = await guest.exec(argv, {
      signal: stop.signal,
      killGraceMs: options.stopGraceMs ?? 30_000,
      timeoutMs: options.timeoutMs ?? (durationMs !== undefined ? durationMs + 180_000 : undefined),
      reject: false,
      onStdout: (chunk) => stream.push(decoder.decode(chunk, { stream: true })),
    });
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCallerAbort);
  }
  stream.push(decoder.decode());
  stream.end();
  const ended = Date.now();
  // Ended by the duration's interval probe: it ran (close to) the whole duration.
  const byTimerProbe = timed && attachedAt !== undefined && ended - attachedAt >= durationMs * 0.9;
  const reason: StopReason = stopReason ?? (result.timedOut ? "timeout" : byTimerProbe ? "duration" : "exit");

  // bpftrace exits 0 after SIGINT. A non-zero exit it chose itself is a failure; after we stopped
  // it (or it was killed past the grace time) it is one only if bpftrace complained and printed
  // no maps — an interrupt during start-up returns an empty result, not an error.
  const { diagnostics } = parseDiagnostics(result.stderr, text);
  if (result.exitCode !== 0) {
    const complained = diagnostics.some((d) => (d.level === "ERROR" || d.level === "FATAL") && !/RLIMIT_MEMLOCK/.test(d.message));
    const stoppedByUs = stopReason !== undefined || result.timedOut;
    if (!stoppedByUs || (complained && !records.some((r) => r.type === "map"))) {
      throw await explainFailure(guest, { program: text, stderr: result.stderr, exitCode: result.exitCode, signal: result.signal });
    }
  }
  if (result.signal === "SIGKILL" && (stopReason !== undefined || result.timedOut) && !records.some((r) => r.type === "map")) {
    // Killed past the grace time: whatever maps it held died with it. Say so rather than
    // return an empty result that looks like "nothing happened".
    throw new KbookError(`bpftrace did not exit within ${Math.round((options.stopGraceMs ?? 30_000) / 1000)} s of SIGINT and was killed; its maps were lost.`, {
      detail: tail(result.stderr, 10) || undefined,
      hint: "Run it again; under TCG detaching many probes can be slow, so fewer probes or a larger stopGraceMs helps.",
    });
  }
  progress.report("bpftrace", "done", { done: true });
  return new BpftraceResult(records, stream.problems, {
    program: text,
    args,
    stopReason: reason,
    exitCode: result.exitCode,
    durationMs: ended - started,
    tracedMs: attachedAt !== undefined ? Math.max(0, (stoppedAt ?? ended) - attachedAt) : undefined,
    stderr: result.stderr,
    warnings: diagnostics.filter((d) => d.level === "WARNING" || d.level === "HINT"),
  });
}

/**
 * Writes the stack mode into the program: bare `kstack`/`ustack` become `kstack(perf)`. bpftrace
 * 0.17 has no BPFTRACE_STACK_MODE setting, only the builtin's argument. Strings and comments are
 * left alone, and stacks that already have arguments keep them.
 */
export function applyStackMode(program: string, mode: StackMode): string {
  if (mode === "bpftrace") return program;
  let out = "";
  let i = 0;
  while (i < program.length) {
    const c = program[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < program.length && program[j] !== '"') j += program[j] === "\\" ? 2 : 1;
      out += program.slice(i, j + 1);
      i = j + 1;
    } else if (program.startsWith("//", i)) {
      const end = program.indexOf("\n", i);
      const stop = end < 0 ? program.length : end;
      out += program.slice(i, stop);
      i = stop;
    } else if (program.startsWith("/*", i)) {
      const end = program.indexOf("*/", i + 2);
      const stop = end < 0 ? program.length : end + 2;
      out += program.slice(i, stop);
      i = stop;
    } else {
      const word = /^[ku]stack\b/.exec(program.slice(i, i + 7));
      const before = i > 0 ? program[i - 1]! : "";
      if (word && !/[\w$@.]/.test(before) && !/^\s*\(/.test(program.slice(i + 6))) {
        out += `${word[0]}(${mode})`;
        i += 6;
      } else {
        out += c;
        i++;
      }
    }
  }
  return out;
}

/** The program of a tagged template: raw text (so `\n` in printf stays an escape), values inserted. */
export function programFromTemplate(strings: TemplateStringsArray, values: readonly unknown[]): string {
  return String.raw({ raw: strings.raw }, ...values.map(String));
}

/**
 * The tagged-template form: `bpftraceTag(guest, { duration: 5000 })\`kprobe:${fn} { @[kstack] = count(); }\``.
 */
export function bpftraceTag(guest: Guest, options: BpftraceRunOptions = {}) {
  return (strings: TemplateStringsArray, ...values: unknown[]): Promise<BpftraceResult> => runBpftrace(guest, programFromTemplate(strings, values), options);
}

/**
 * Both call forms in one function, for `vm.bpftrace(...)`: `(program, options?)` or a tagged template.
 */
export function bpftrace(guest: Guest, first: string | TemplateStringsArray, ...rest: unknown[]): Promise<BpftraceResult> {
  if (typeof first === "string") return runBpftrace(guest, first, (rest[0] as BpftraceRunOptions | undefined) ?? {});
  if (Array.isArray(first) && "raw" in first) return runBpftrace(guest, programFromTemplate(first as TemplateStringsArray, rest));
  throw new UsageError("bpftrace() takes a program string (and options) or is used as a tagged template.");
}

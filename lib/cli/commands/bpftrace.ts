/**
 * `kbook bpftrace`: boot a guest, run a bpftrace program in it, and write the typed result — as
 * text on the terminal, or as an HTML report (tables, charts, flame graph) or JSON file. With
 * --input it renders a saved bpftrace output (JSON or text, e.g. pasted from an article) instead.
 */
import { readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import type { BpftraceResult, StackMode } from "../../bpftrace/index.js";
import { UsageError } from "../../errors/index.js";
import type { Command, ParsedArgs } from "../command.js";
import { numberOption, stringOption } from "../command.js";
import { terminalProgress } from "../progress.js";
import { bootOptionsFromArgs, vmOptions } from "./boot.js";

const STACK_MODES: readonly StackMode[] = ["bpftrace", "perf", "raw"];

export const bpftraceCommand: Command = {
  name: "bpftrace",
  summary: "Run a bpftrace program in a guest and show its maps, stacks and histograms",
  usage: "kbook bpftrace (-e PROGRAM | FILE | --input SAVED) [--duration 5s] [--image NAME] [-o out.html|out.json|out.txt]",
  description:
    "printf output streams to the terminal while the program runs. The program stops when it calls\n" +
    "exit(), when --duration has passed since its probes attached, or on Ctrl-C; bpftrace then\n" +
    "prints its maps, which kbook shows as text or writes to -o (HTML: tables, charts and a flame\n" +
    "graph per stack map; JSON: the typed result).",
  options: {
    expr: { type: "string", short: "e", value: "PROGRAM", description: "the bpftrace program" },
    duration: { type: "string", short: "d", value: "DURATION", description: "stop after this long once attached, e.g. 5s, 500ms" },
    arg: { type: "string", multiple: true, value: "VALUE", description: "a positional parameter ($1, $2…); repeat for more" },
    "stack-mode": { type: "string", value: "MODE", description: "kstack/ustack layout: bpftrace or perf" },
    output: { type: "string", short: "o", value: "FILE", description: "write the result: .html, .json or .txt" },
    top: { type: "string", value: "N", description: "stacks listed per stack map on the terminal (default 10)" },
    input: { type: "string", value: "FILE", description: "render a saved bpftrace output (JSON or text) instead of running" },
    ...vmOptions,
  },
  async run(args) {
    const output = stringOption(args, "output");
    if (output && ![".html", ".htm", ".json", ".txt"].includes(extname(output).toLowerCase())) {
      throw new UsageError(`-o ${output}: the file name must end in .html, .json or .txt.`);
    }
    const input = stringOption(args, "input");
    const { parseBpftraceOutput } = await import("../../bpftrace/index.js");
    const result = input ? parseBpftraceOutput(await readInput(input)) : await runInGuest(args);
    if (output) {
      await writeResult(result, output);
      process.stderr.write(`[bpftrace] wrote ${output}\n`);
    } else {
      // printf text has streamed to the terminal during a run; a saved output shows it here.
      process.stdout.write(`${result.text({ output: !result.run, top: numberOption(args, "top") ?? 10 })}\n`);
    }
    return 0;
  },
};

async function readInput(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read --input ${path}: ${(error as Error).message}`, { cause: error });
  }
}

async function programFromArgs(args: ParsedArgs): Promise<string> {
  const expr = stringOption(args, "expr");
  const file = args.positionals[0];
  if (expr !== undefined && file !== undefined) throw new UsageError("Give the program with -e or as a FILE, not both.");
  if (expr !== undefined) return expr;
  if (file === undefined) throw new UsageError("No program given.", { hint: "kbook bpftrace -e 'kprobe:task_tick_fair { @[kstack] = count(); }' --duration 5s" });
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read the program file ${file}: ${(error as Error).message}`, { cause: error });
  }
}

async function runInGuest(args: ParsedArgs): Promise<BpftraceResult> {
  const program = await programFromArgs(args);
  const stackMode = stringOption(args, "stack-mode");
  if (stackMode !== undefined && !STACK_MODES.includes(stackMode as StackMode)) throw new UsageError(`--stack-mode must be bpftrace or perf, not '${stackMode}'.`);
  const positional = (args.values.arg as string[] | undefined) ?? [];
  // Ctrl-C stops bpftrace the way bpftrace itself expects (SIGINT), so its maps still print;
  // a second Ctrl-C falls back to Node's default and ends kbook.
  const stop = new AbortController();
  const onSigint = (): void => {
    process.stderr.write("\n[bpftrace] stopping (Ctrl-C again to quit)\n");
    process.off("SIGINT", onSigint);
    stop.abort();
  };
  const { bootVm } = await import("../../boot/index.js");
  const { runBpftrace } = await import("../../bpftrace/index.js");
  const vm = await bootVm(bootOptionsFromArgs(args));
  try {
    process.on("SIGINT", onSigint);
    return await runBpftrace(vm, program, {
      duration: stringOption(args, "duration"),
      args: positional,
      stackMode: stackMode as StackMode | undefined,
      signal: stop.signal,
      onPrintf: (text) => process.stdout.write(text),
      onProgress: terminalProgress("bpftrace"),
    });
  } finally {
    process.off("SIGINT", onSigint);
    await vm.shutdown();
  }
}

async function writeResult(result: BpftraceResult, path: string): Promise<void> {
  const ext = extname(path).toLowerCase();
  const program = result.run?.program;
  const text =
    ext === ".json" ? `${JSON.stringify(result, null, 2)}\n` : ext === ".txt" ? `${result.text()}\n` : await result.htmlPage(program ? `bpftrace: ${firstLine(program)}` : "bpftrace");
  await writeFile(path, text);
}

function firstLine(program: string): string {
  const line = program.trim().split("\n")[0] ?? "";
  return line.length > 80 ? `${line.slice(0, 77)}…` : line;
}

/**
 * A tiny command framework over node:util parseArgs: every command declares its options once,
 * and `--help` text, unknown-option errors and exit codes come from that declaration.
 */
import { parseDeclaredOptions } from "../args/index.js";
import { UsageError } from "../errors/index.js";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in --help; the value placeholder comes from `value`. */
  description: string;
  value?: string;
  default?: string | boolean;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** e.g. "kbook collapse [FILE|-] [options]". */
  usage: string;
  /** Further paragraphs for --help. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Sub-commands (e.g. `image build`); when present, the first positional picks one. */
  subcommands?: Command[];
  /** Returns the process exit code. */
  run?(args: ParsedArgs): Promise<number>;
}

export function helpText(command: Command, prefix = "kbook"): string {
  const lines = [`usage: ${command.usage}`, "", command.summary];
  if (command.description) lines.push("", command.description);
  if (command.subcommands?.length) {
    lines.push("", "commands:");
    const width = Math.max(...command.subcommands.map((c) => c.name.length));
    for (const sub of command.subcommands) lines.push(`  ${sub.name.padEnd(width)}  ${sub.summary}`);
    lines.push("", `Run '${prefix} ${command.name} COMMAND --help' for a command's options.`);
  }
  const entries = Object.entries(command.options);
  if (entries.length) {
    lines.push("", "options:");
    const labels = entries.map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
      return [flag, o.description + (o.default !== undefined && o.default !== false ? ` (default: ${o.default})` : "")];
    });
    labels.push(["-h, --help", "show this help"]);
    const width = Math.max(...labels.map(([f]) => f!.length));
    for (const [flag, text] of labels) lines.push(`  ${flag!.padEnd(width)}  ${text}`);
  }
  return lines.join("\n") + "\n";
}

/** Parses argv for a command; throws UsageError naming the bad option. */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs & { help: boolean } {
  const { values, positionals } = parseDeclaredOptions(
    { help: { type: "boolean", short: "h" }, ...command.options },
    argv,
    `kbook ${command.name}`,
    `Run 'kbook ${command.name} --help' for the options.`,
  );
  return { values, positionals, help: Boolean(values.help) };
}

/** Reads a string option, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/** Reads a numeric option; throws UsageError when it is not a number. */
export function numberOption(args: ParsedArgs, name: string): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got '${raw}'.`);
  return n;
}

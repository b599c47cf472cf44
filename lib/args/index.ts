/**
 * Declared options over node:util parseArgs, for the two places kbook parses a command line: the
 * CLI's commands and the notebook's cell magics. Each declares its options once; this turns
 * parseArgs' errors into a UsageError that names the command and says where the help is.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors/index.js";

export interface DeclaredOption {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
}

export interface ParsedOptions {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` strictly against `declared` (defaults filled in). `who` names the command in an
 * error ("kbook collapse", "%%bpftrace"); `hint` says where to read the options.
 */
export function parseDeclaredOptions(declared: Record<string, DeclaredOption>, argv: readonly string[], who: string, hint: string): ParsedOptions {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(declared)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    const values: ParsedOptions["values"] = { ...parsed.values };
    for (const [name, o] of Object.entries(declared)) {
      if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
    }
    return { values, positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, ".") : String(error);
    throw new UsageError(`${who}: ${message}`, { hint });
  }
}

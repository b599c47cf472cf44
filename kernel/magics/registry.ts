/**
 * Cell magics: a cell whose first line is `%%name args` is handed to the magic `name` with the
 * rest of the cell as its body. Each magic is its own module declaring its options once (parsed
 * by lib/args, like the CLI's commands) and the TypeScript type of its result, which
 * is bound to `_` and to `--out NAME` for later cells.
 */
import { parseDeclaredOptions } from "../../lib/args/index.js";
import { UsageError } from "../../lib/errors/index.js";
import type { DisplayFunction, ProgressDisplay } from "../display/display-api.js";
import type { ProgressListener } from "../../lib/progress/index.js";
import type { KernelVm } from "./current-vm.js";

export interface MagicOption {
  type: "string" | "boolean";
  short?: string;
  description: string;
}

export interface MagicContext {
  body: string;
  options: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** The text after a standalone `--` on the magic line (a command to run), or "". */
  command: string;
  /** Aborted when the user interrupts the kernel. */
  signal: AbortSignal;
  stdout(text: string): void;
  stderr(text: string): void;
  display: DisplayFunction;
  progressDisplay(title: string): ProgressDisplay;
  /** The VM named by --vm, else the notebook's current VM (booting the default one if none). */
  vm(): Promise<KernelVm>;
}

export interface MagicResult {
  value: unknown;
  /** Show `value` as the cell's result (a chart, a flame graph); false when output was streamed. */
  show: boolean;
  /** The cell fails with this error, after `value` was bound (a script's non-zero exit). */
  failure?: Error;
}

export interface Magic {
  name: string;
  summary: string;
  /** e.g. "%%bpftrace [--duration 5s] [--vm NAME] [--out NAME]". */
  usage: string;
  options: Record<string, MagicOption>;
  /** TypeScript type of the result, for the declarations later cells are checked against. */
  resultType: string;
  run(context: MagicContext): Promise<MagicResult>;
}

export interface MagicInvocation {
  name: string;
  argsText: string;
  body: string;
}

/** Options every magic accepts. */
/** `--vm NAME`, for the magics that work in a guest. */
export const VM_OPTION: MagicOption = { type: "string", description: "the notebook variable holding the VM (default: the current VM)" };

export const COMMON_OPTIONS: Record<string, MagicOption> = {
  out: { type: "string", description: "also bind the result to this variable" },
};

export class MagicRegistry {
  private readonly magics = new Map<string, Magic>();

  register(magic: Magic): this {
    this.magics.set(magic.name, magic);
    return this;
  }

  get(name: string): Magic {
    const magic = this.magics.get(name);
    if (!magic) {
      throw new UsageError(`Unknown cell magic '%%${name}'.`, { hint: `Known cell magics: ${[...this.magics.keys()].map((n) => `%%${n}`).join(", ")}.` });
    }
    return magic;
  }

  /** The magic called `name`, or undefined. */
  find(name: string): Magic | undefined {
    return this.magics.get(name);
  }

  names(): string[] {
    return [...this.magics.keys()];
  }

  /** Parses the magic line's arguments against the magic's declared options. */
  parseArguments(magic: Magic, argsText: string): Pick<MagicContext, "options" | "positionals" | "command"> {
    const { tokens, command } = tokenizeMagicLine(argsText);
    const parsed = parseDeclaredOptions({ ...COMMON_OPTIONS, ...magic.options }, tokens, `%%${magic.name}`, `Usage: ${magic.usage}`);
    return { options: parsed.values as MagicContext["options"], positionals: parsed.positionals, command };
  }
}

/** `%%name args` on the first line, or undefined for an ordinary cell. */
export function parseMagicCell(code: string): MagicInvocation | undefined {
  const m = /^%%([A-Za-z][\w-]*)[ \t]*([^\n]*)\n?/.exec(code.replace(/^\s*\n/, ""));
  if (!m) return undefined;
  const body = code.replace(/^\s*\n/, "").slice(m[0].length);
  return { name: m[1]!, argsText: m[2]!.trim(), body };
}

/**
 * Splits the magic line like a shell would (quotes, backslashes), stopping at a standalone `--`:
 * what follows it is kept verbatim as a command for the guest's shell.
 */
export function tokenizeMagicLine(text: string): { tokens: string[]; command: string } {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    let token = "";
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) quote = undefined;
        else if (c === "\\" && quote === '"' && i + 1 < text.length) token += text[++i];
        else token += c;
      } else if (c === "'" || c === '"') {
        quote = c;
      } else if (c === "\\" && i + 1 < text.length) {
        token += text[++i];
      } else if (/\s/.test(c)) {
        break;
      } else {
        token += c;
      }
    }
    if (quote) throw new UsageError(`Unclosed ${quote} quote in the magic line: ${text}`);
    if (token === "--" && text.slice(start, i) === "--") return { tokens, command: text.slice(i).trim() };
    tokens.push(token);
  }
  return { tokens, command: "" };
}

/**
 * A progress listener that shows a progress display only once there is progress to show, so a
 * quick run leaves no empty progress line behind.
 */
export function lazyProgress(context: MagicContext, title: string): ProgressListener {
  let display: ProgressDisplay | undefined;
  return (event) => {
    display ??= context.progressDisplay(title);
    display(event);
  };
}

/** A chunk callback that decodes UTF-8 across chunk boundaries and writes the text. */
export function chunkWriter(write: (text: string) => void): (chunk: Uint8Array) => void {
  const decoder = new TextDecoder();
  return (chunk) => write(decoder.decode(chunk, { stream: true }));
}

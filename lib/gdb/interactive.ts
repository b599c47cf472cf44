/**
 * gdb in the user's terminal, attached to a guest's gdbstub with kbook's symbols: the article's
 * `gdb vmlinux -ex "target remote :1234"` without the port open to the network.
 */
import { execa } from "execa";
import { ToolError } from "../errors/index.js";
import type { KernelSymbols } from "./symbols.js";

export interface InteractiveGdbOptions {
  host?: string;
  port: number;
  symbols: KernelSymbols;
  /** Functions or addresses to hbreak on before the prompt (e.g. "start_kernel"). */
  breakpoints?: readonly string[];
  /** Continue after connecting (useful with breakpoints and a paused boot). */
  continueAfterConnect?: boolean;
  gdbPath?: string;
}

/** The argv for gdb; kept apart so that it can be checked without a terminal. */
export function interactiveGdbArgs(options: InteractiveGdbOptions): string[] {
  const host = options.host ?? "127.0.0.1";
  const args = ["-q"];
  // Trust the kernel build's vmlinux-gdb.py (lx-ps, lx-dmesg…) in its own directory only.
  if (options.symbols.gdbScriptsDir) args.push("-iex", `add-auto-load-safe-path ${options.symbols.gdbScriptsDir}`);
  if (options.symbols.path) args.push(options.symbols.path);
  if (options.symbols.sourceDir) args.push("-ex", `directory ${options.symbols.sourceDir}`);
  args.push("-ex", `target remote ${host}:${options.port}`);
  for (const location of options.breakpoints ?? []) {
    const spec = /^0x[0-9a-f]+$/i.test(location) ? `*${location}` : location;
    args.push("-ex", `hbreak ${spec}`);
  }
  if (options.continueAfterConnect) args.push("-ex", "continue");
  return args;
}

/**
 * Runs gdb on the terminal until the user quits; returns gdb's exit code. Node ignores SIGINT
 * meanwhile: Ctrl-C belongs to gdb, which uses it to stop the guest.
 */
export async function runInteractiveGdb(options: InteractiveGdbOptions): Promise<number> {
  const gdb = options.gdbPath ?? "gdb";
  const ignore = () => undefined;
  process.on("SIGINT", ignore);
  try {
    const result = await execa(gdb, interactiveGdbArgs(options), { stdio: "inherit", reject: false });
    if ((result as { code?: string }).code === "ENOENT") {
      throw new ToolError(gdb, `'${gdb}' is not installed.`, { hint: "Run 'kbook doctor --install' to install kbook's system dependencies." });
    }
    return result.exitCode ?? 1;
  } finally {
    process.off("SIGINT", ignore);
  }
}

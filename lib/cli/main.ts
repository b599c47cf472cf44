#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * The `kbook` command line. Errors that are the user's to fix (KbookError) print a message and
 * a hint, never a stack trace, and exit 1; usage errors exit 2.
 *
 * The small young generation (2 MB semi-spaces, V8's default is 16) is for the stream
 * commands: `kbook collapse` on a 1 GB capture peaks at ~130 MB instead of ~175 MB and runs no
 * slower, since what it allocates is either short-lived or kept to the end. V8 reads the flag
 * only when it starts, hence the shebang.
 */
import { commands } from "./commands/index.js";
import { helpText, parseCommandArgs, type Command } from "./command.js";
import { KbookError, UsageError } from "../errors/index.js";

const root: Command = {
  name: "",
  summary: "Read the Linux kernel with QEMU, gdb, perf/FlameGraph and bpftrace.",
  usage: "kbook COMMAND [options]",
  options: {},
  subcommands: commands,
};

export async function main(argv: string[]): Promise<number> {
  let command = root;
  let rest = argv;
  // Walk down sub-commands: `kbook image build --recipe busybox`.
  while (command.subcommands?.length && rest.length && !rest[0]!.startsWith("-")) {
    const next = command.subcommands.find((c) => c.name === rest[0]);
    if (!next) {
      const where = command === root ? "kbook" : `kbook ${command.name}`;
      throw new UsageError(`Unknown command '${rest[0]}'${command === root ? "" : ` for '${where}'`}.`, {
        hint: `Known commands: ${command.subcommands.map((c) => c.name).join(", ")}. Run '${where} --help'.`,
      });
    }
    command = command === root ? next : { ...next, name: `${command.name} ${next.name}` };
    rest = rest.slice(1);
  }
  const parsed = parseCommandArgs(command, rest);
  if (parsed.help || !command.run) {
    process.stdout.write(helpText(command));
    return parsed.help || command === root ? (parsed.help ? 0 : 2) : 2;
  }
  return command.run(parsed);
}

function report(error: unknown): number {
  if (error instanceof KbookError) {
    process.stderr.write(`kbook: ${error.describe()}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
  process.stderr.write(`kbook: internal error (please report it):\n${error instanceof Error ? error.stack : String(error)}\n`);
  return 70;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error);
  },
);

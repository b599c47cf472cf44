/**
 * Input and output plumbing for the profile commands: "FILE or -" inputs, writing to a file or
 * standard output, and warnings on standard error.
 */
import { closeSync, openSync, statSync, writeFileSync, writeSync } from "node:fs";
import { UsageError } from "../errors/index.js";

/** The input file named on the command line; undefined for standard input ("-" or none). */
export function inputPath(positional: string | undefined, what: string): string | undefined {
  if (positional === undefined || positional === "-") {
    if (process.stdin.isTTY) {
      throw new UsageError(`No input: give a file of ${what}, or pipe it into standard input.`, { hint: "e.g. perf script | kbook collapse > out.folded" });
    }
    return undefined;
  }
  let isFile = false;
  try {
    isFile = statSync(positional).isFile();
  } catch {
    throw new UsageError(`Cannot read '${positional}': no such file.`);
  }
  if (!isFile) throw new UsageError(`'${positional}' is not a file.`);
  return positional;
}

/** Where output goes: a file (written at once) or standard output (waiting for it to drain). */
export function openOutput(path: string | undefined): { write(data: string | Uint8Array): Promise<void> } {
  return {
    async write(data) {
      if (path !== undefined && path !== "-") {
        writeFileSync(path, data);
        return;
      }
      await writeStdout(data);
    },
  };
}

function writeStdout(data: string | Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    process.stdout.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Writes blocks as they are produced (to a file, or standard output), so that memory holds
 * one block at a time.
 */
export async function writeBlocks(path: string | undefined, produce: (write: (block: Buffer) => void) => void): Promise<void> {
  if (path !== undefined && path !== "-") {
    const fd = openSync(path, "w");
    try {
      produce((block) => writeSync(fd, block));
    } finally {
      closeSync(fd);
    }
    return;
  }
  // Writes to pipes and files are synchronous on Linux, so blocks do not pile up in memory.
  produce((block) => process.stdout.write(block));
  await writeStdout("");
}

export function warn(message: string): void {
  process.stderr.write(`kbook: warning: ${message}\n`);
}

/** Reads all of standard input. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The kernel_info_reply: who this kernel is and which language it speaks. Built without loading
 * TypeScript (its version is read from its package.json), so the reply is immediate at start.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { PROTOCOL_VERSION } from "./protocol/wire.js";
import { packageRoot } from "../lib/paths.js";
import { join } from "node:path";

function packageVersion(file: string): string {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function kernelInfo(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const kbookVersion = packageVersion(join(packageRoot(), "package.json"));
  const typescriptVersion = packageVersion(require.resolve("typescript/package.json"));
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "kbook",
    implementation_version: kbookVersion,
    language_info: {
      name: "typescript",
      version: typescriptVersion,
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      codemirror_mode: { name: "javascript", typescript: true },
      nbconvert_exporter: "script",
    },
    banner: `kbook ${kbookVersion}: TypeScript ${typescriptVersion} on Node.js ${process.version}, for reading the Linux kernel with QEMU, gdb, perf and bpftrace.`,
    help_links: [
      { text: "TypeScript handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
      { text: "Node.js API", url: "https://nodejs.org/docs/latest-v20.x/api/" },
    ],
    debugger: false,
  };
}

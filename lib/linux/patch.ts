/**
 * Changing the kernel: a unified diff applied to the build's source with GNU patch — Debian's
 * working copy in the cache (never the pristine unpacked package) or the user's own tree. A
 * patch that does not apply changes nothing (patch's --dry-run first) and says which hunk failed;
 * one that is in place already (a notebook cell run twice) is reported as such, not as an error.
 */
import { execa } from "execa";
import { UsageError, ToolError, tail } from "../errors/index.js";
import type { LinuxSource } from "./source.js";
import type { LinuxBuild } from "./store.js";

export interface PatchResult {
  /** Files the patch touched, as patch named them (none when it was already in place). */
  files: string[];
  /** The tree already had it (applied before, or already undone with `reverse`): nothing changed. */
  alreadyDone: boolean;
}

/**
 * Applies `diff` (unified, paths like a/fs/open.c) to the source tree of a build or a source;
 * `reverse` undoes it. The next buildLinux() recompiles what it changed.
 */
export async function applyPatch(target: LinuxSource | LinuxBuild, diff: string, options: { reverse?: boolean } = {}): Promise<PatchResult> {
  const source: LinuxSource = "manifest" in target ? { ...target.manifest.source } : target;
  if (source.kind === "debian" && source.pristineDir && source.dir === source.pristineDir) {
    throw new UsageError("Refusing to patch the pristine Debian source; patches go into its working copy.");
  }
  const args = ["-p1", "-d", source.dir, "--forward", "--batch", "--no-backup-if-mismatch", ...(options.reverse ? ["--reverse"] : [])];
  // patch reports failed hunks on stdout: keep both streams for the message.
  const dry = await execa("patch", [...args, "--dry-run"], { input: diff, reject: false, all: true });
  if ((dry as { code?: string }).code === "ENOENT") throw new UsageError("GNU patch is not installed.", { hint: "apt-get install patch" });
  if (dry.exitCode !== 0) {
    // Re-running a notebook cell applies the same patch again: if undoing it would work, it is
    // in place already, and that is not an error.
    const undo = await execa("patch", [...args.filter((a) => a !== "--reverse"), ...(options.reverse ? [] : ["--reverse"]), "--dry-run"], { input: diff, reject: false, all: true });
    if (undo.exitCode === 0) return { files: [], alreadyDone: true };
    throw new UsageError(`The patch does not apply to ${source.dir}; nothing was changed.`, {
      detail: tail(String(dry.all ?? ""), 20),
      hint: options.reverse ? "Was it applied? Reversing needs the patched files." : "Was it applied already, or made for another kernel version?",
    });
  }
  const applied = await execa("patch", args, { input: diff, reject: false, all: true });
  if (applied.exitCode !== 0) throw new ToolError("patch", "patch failed after its dry run succeeded.", { exitCode: applied.exitCode, stderrTail: tail(String(applied.all ?? "")) });
  return { files: [...String(applied.stdout).matchAll(/^patching file (.+)$/gm)].map((m) => m[1]!.trim()), alreadyDone: false };
}

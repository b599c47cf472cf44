/**
 * The order of test files, and the one cold kernel build a fresh run needs started early.
 *
 * Building the learn kernel from Debian's source is the longest single step of `npm test` on a
 * fresh machine (about 9 minutes on this machine kind's two cores, over 15 on the last CI machine), and only two files need it: the
 * kernel build tests and the notebooks (06 changes the kernel). So when a run includes them and
 * the kernel is not in the test cache, this starts `kbook linux build` at the lowest CPU and I/O
 * priority as the run begins, and puts those two files last: the build uses the time the other
 * files leave idle (waits on guests, downloads, single-threaded TCG), and the tests that need it
 * find it built, or wait on its lock for the rest. It is the same build the tests would start
 * (same source, config and cache), so they reuse it by its key. It is stopped when the run ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Files that need the learn kernel, in the order they run at the end. */
const NEEDS_KERNEL = ["test/linux/build.test.ts", "test/notebooks/notebooks.test.ts"];
const CLI = resolve("dist/lib/cli/main.js");

let prebuild: ChildProcess | undefined;

function startKernelBuild(cache: string): void {
  if (prebuild || !existsSync(CLI) || process.env.KBOOK_TEST_PREBUILD === "0") return;
  mkdirSync(cache, { recursive: true });
  const log = join(cache, "kernel-prebuild.log");
  const out = openSync(log, "a");
  // nice/ionice keep the guests' QEMU ahead of the compiler; argv arrays, no shell.
  const argv = ["-n", "19", "ionice", "-c", "3", process.execPath, CLI, "linux", "build"];
  prebuild = spawn("nice", argv, { env: { ...process.env, KBOOK_CACHE: cache }, stdio: ["ignore", out, out], detached: true });
  closeSync(out); // the child has its own copy
  prebuild.on("error", () => undefined);
  prebuild.on("exit", () => (prebuild = undefined));
  process.stderr.write(`[test linux] building the learn kernel in the background (pid ${prebuild.pid}), log: ${log}\n`);
  process.once("exit", () => {
    if (prebuild?.pid) {
      try {
        process.kill(-prebuild.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  });
}

export default class KernelLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (spec: TestSpecification) => NEEDS_KERNEL.indexOf(relative(root, spec.moduleId));
    const early = sorted.filter((s) => rank(s) < 0);
    const late = sorted.filter((s) => rank(s) >= 0).sort((a, b) => rank(a) - rank(b));
    // Worth it only when something runs alongside: a run of just the kernel tests builds in them.
    const cache = this.ctx.config.env?.KBOOK_CACHE;
    if (late.length && early.length && typeof cache === "string") startKernelBuild(cache);
    return [...early, ...late];
  }
}

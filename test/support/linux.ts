/**
 * The learn kernel for integration tests, built on first use into the test cache (cold on a
 * fresh checkout, so CI really builds it from Debian's linux-source) and reused after that.
 */
import { buildLinux, type LinuxBuild, type LinuxBuildOptions } from "../../lib/linux/index.js";

/** Builds (or finds) a kernel, logging progress like the test images do. */
export function testLinux(options: LinuxBuildOptions = {}): Promise<LinuxBuild> {
  return buildLinux({
    ...options,
    onProgress: (e) => process.stderr.write(`[test linux] ${(e.elapsedMs / 1000).toFixed(1)} s ${e.stage}${e.message ? `: ${e.message}` : ""}\n`),
  });
}

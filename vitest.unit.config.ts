import { defineConfig } from "vitest/config";

// `npm run test:unit`: the pure tests — parsers, renderers, argv builders, the wire protocols,
// property tests — over kbook's own fixtures. In seconds, from a bare clone: no root, no QEMU,
// no built dist/, and nothing spawned but Node, perl, python3 and POSIX tools (sh, gzip, tar,
// openssl) used as oracles. `npm test` (vitest.config.ts) runs these and everything else.
//
// A file is listed here only if nothing in it boots a VM, spawns qemu, perf, bpftrace, gdb,
// jupyter, chromium, busybox or a compiler, reads dist/, or needs root. Left out for that
// reason even where most of the file is pure: flamegraph/cli (perf record as root),
// perf/collapse-parallel (its workers run from dist/), kernel/cell-compiler (cells import
// "kbook", whose types are in dist/), viz/searchable and export/xss-corpus (Chromium), cpio
// (busybox), images/alpine/installer-pty (a pty and timed waits).
export default defineConfig({
  test: {
    include: [
      "test/agent/protocol.test.ts",
      "test/api.test.ts",
      "test/layers.test.ts",
      "test/bpftrace/{cli,diagnostics,display,fuzz,json,stacks,text}.test.ts",
      "test/export/{ansi,command,export,markdown,sanitize}.test.ts",
      "test/flamegraph/{difffolded,format,fuzz,merge,palette,render}.test.ts",
      "test/gdb/mi.test.ts",
      "test/images/{apt-sources,kmod,recipe}.test.ts",
      "test/images/alpine/{apk-format,config,download,installer-driver,mirror}.test.ts",
      "test/kernel/{history,magics,wire}.test.ts",
      "test/linux/{kconfig,make-output}.test.ts",
      "test/perf/{cli,collapse,conformance,fuzz,input,profile}.test.ts",
      "test/progress/progress.test.ts",
      "test/system/accel.test.ts",
      "test/viz/{html,plot,vegalite}.test.ts",
      "test/vm/{argv,console,listen}.test.ts",
    ],
    testTimeout: 30_000,
    // These files share no global state (no env, cwd or module mocks): one module graph per
    // worker thread, not per file, halves the run on two cores.
    pool: "threads",
    isolate: false,
  },
});

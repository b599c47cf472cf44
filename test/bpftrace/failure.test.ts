/**
 * Failure explanations against the real bpftrace 0.17 on this host, whose kernel makes a good
 * specimen: tracefs is not mounted (no kprobes, no tracepoints) and kfunc is unavailable although
 * BTF is present. The guest tests cover the unknown-probe suggestions, which need `bpftrace -l`.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  BpftraceKernelError,
  BpftraceMissingError,
  BpftraceProbeError,
  BpftraceProgramError,
  runBpftrace,
} from "../../lib/bpftrace/index.js";
import { HostGuest, hostHasBpftrace } from "../support/host-guest.js";

const tracefsMounted = existsSync("/sys/kernel/tracing/events");

describe.skipIf(!hostHasBpftrace)("explaining bpftrace failures (host)", () => {
  const guest = new HostGuest();
  const failure = (program: string, options = {}) => runBpftrace(guest, program, { duration: 2000, ...options }).then(() => undefined, (e: unknown) => e);

  it.skipIf(tracefsMounted)("says tracefs is not mounted when kprobes cannot be created", async () => {
    const error = await failure("kprobe:vfs_read { @x = count(); }");
    expect(error).toBeInstanceOf(BpftraceKernelError);
    expect((error as BpftraceKernelError).missing).toBe("tracefs");
    expect((error as BpftraceKernelError).hint).toContain("mount -t tracefs nodev /sys/kernel/tracing");
  });

  it.skipIf(tracefsMounted)("says the same for tracepoints", async () => {
    const error = await failure("tracepoint:sched:sched_switch { @x = count(); }");
    expect((error as BpftraceKernelError).missing).toBe("tracefs");
  });

  it("says whether BTF or kfunc support is what is missing", async () => {
    const error = await failure("kfunc:vfs_read { @x = count(); }");
    expect(error).toBeInstanceOf(BpftraceKernelError);
    const expected = existsSync("/sys/kernel/btf/vmlinux") ? "kfunc" : "btf";
    expect((error as BpftraceKernelError).missing).toBe(expected);
    expect((error as Error).message).toContain(guest.info.kernelRelease);
  });

  it("names a probe that does not exist", async () => {
    const error = await failure("software:cpu-clockz:1 { @x = count(); }");
    expect(error).toBeInstanceOf(BpftraceProbeError);
    expect((error as BpftraceProbeError).probe).toBe("software:cpu-clockz:1");
  });

  it("shows semantic errors against the program", async () => {
    const error = await failure("BEGIN {\n  @y = foo();\n}");
    expect(error).toBeInstanceOf(BpftraceProgramError);
    expect((error as Error).message).toBe("bpftrace: Unknown function: foo (line 2, column 8)");
    expect((error as BpftraceProgramError).detail).toContain("2 |   @y = foo();\n  |        ^~~");
  });

  it("says when bpftrace is not installed", async () => {
    const error = await failure("BEGIN { exit(); }", { bpftrace: "/nonexistent/bpftrace" });
    expect(error).toBeInstanceOf(BpftraceMissingError);
  });
});

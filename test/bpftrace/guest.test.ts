/**
 * bpftrace in a real debian guest (QEMU, TCG): the article's kstack count, a kfunc probe, a
 * tracepoint histogram, errors, an interrupted run, probe listing. Slow (one boot, ~3 s of
 * bpftrace start-up per run), so every run traces for a short duration.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BpftraceProbeError,
  BpftraceProgramError,
  listProbes,
  runBpftrace,
  type BpftraceRecord,
} from "../../lib/bpftrace/index.js";
import { bootVm } from "../../lib/boot/index.js";
import type { Guest } from "../../lib/guest/index.js";

/** Makes the guest do some file reads while bpftrace traces. */
function readFilesWhenAttached(vm: Guest): (record: BpftraceRecord) => void {
  return (record) => {
    if (record.type === "attached_probes") {
      void vm.exec(["/bin/sh", "-c", "for i in $(seq 200); do cat /etc/os-release > /dev/null; done"], { reject: false });
    }
  };
}

describe("bpftrace in the debian guest", () => {
  let vm: Awaited<ReturnType<typeof bootVm>>;

  beforeAll(async () => {
    vm = await bootVm({ image: "debian" });
  }, 900_000);

  afterAll(async () => {
    await vm?.shutdown();
  });

  it("counts kernel stacks reaching task_tick_fair", async () => {
    const result = await runBpftrace(vm, "kprobe:task_tick_fair { @[kstack] = count(); }", { duration: 3000 });
    expect(result.run!.stopReason).toBe("duration");
    const stacks = result.stacks();
    expect(stacks.rows.length).toBeGreaterThan(0);
    for (const row of stacks.rows) expect(row.frames[0]).toMatch(/^task_tick_fair\+\d+$/);
    expect(stacks.folded()).toMatch(/;task_tick_fair\+\d+ \d+\n/);
    expect((await stacks.chart()).svg).toMatch(/^<svg/);
    expect(stacks.flameGraph()).toContain("task_tick_fair");
  });

  it("attaches a kfunc probe with typed arguments", async () => {
    const result = await runBpftrace(vm, "kfunc:vfs_read { @reads[comm] = count(); @bytes = hist(args->count); }", {
      duration: 3000,
      onRecord: readFilesWhenAttached(vm),
    });
    const reads = result.map("@reads")!;
    expect(reads.entries.some((e) => e.key?.text === "cat")).toBe(true);
    expect(result.map("@bytes")!.kind).toBe("histogram");
  });

  it("draws a tracepoint histogram", async () => {
    const result = await runBpftrace(vm, "tracepoint:syscalls:sys_exit_read { @ret = hist(args->ret); }", {
      duration: 3000,
      onRecord: readFilesWhenAttached(vm),
    });
    const ret = result.histograms()[0]!;
    expect(ret.name).toBe("@ret");
    expect(ret.scale).toBe("log2");
    expect(ret.entries[0]!.value.reduce((s, b) => s + b.count, 0)).toBeGreaterThan(0);
    expect(String(result.html())).toContain("<svg");
  });

  it("reports a syntax error with line and column", async () => {
    const error = await runBpftrace(vm, "kprobe:task_tick_fair {\n  @[kstack] = count(\n}").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BpftraceProgramError);
    expect((error as BpftraceProgramError).diagnostics[0]!.line).toBe(3);
    expect((error as BpftraceProgramError).detail).toMatch(/3 \| }\n {2}\| \^/);
  });

  it("names the closest probes for one that does not exist", async () => {
    const error = await runBpftrace(vm, "kprobe:task_tick_fiar { @ = count(); }", { duration: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BpftraceProbeError);
    expect((error as BpftraceProbeError).probe).toBe("kprobe:task_tick_fiar");
    expect((error as BpftraceProbeError).suggestions[0]).toBe("kprobe:task_tick_fair");
  });

  it("still returns the maps when interrupted, and the VM stays usable", async () => {
    const controller = new AbortController();
    // bpftrace's "attached_probes" record comes before its probes are live (seconds, under TCG);
    // its BEGIN probe fires once they are: interrupt two seconds after that.
    const result = await runBpftrace(vm, 'BEGIN { printf("live\\n"); } kprobe:task_tick_fair { @[kstack] = count(); }', {
      signal: controller.signal,
      onRecord: (r) => {
        if (r.type === "text" && r.text === "live\n") setTimeout(() => controller.abort(), 2000);
      },
    });
    expect(result.run!.stopReason).toBe("interrupted");
    expect(result.stacks().rows.length).toBeGreaterThan(0);
    const after = await vm.exec(["uname", "-r"]);
    expect(after.stdout.trim()).toBe(vm.info.kernelRelease);
  });

  it("lists probes", async () => {
    const probes = await listProbes(vm, "kprobe:task_tick_*");
    expect(probes.includes("kprobe:task_tick_fair")).toBe(true);
    expect(probes.filter(/fair$/).names).toContain("kprobe:task_tick_fair");
  });
});

/**
 * Load and faults in real guests (TCG here): more commands than the agent runs at once, copies
 * in flight together, a guest out of memory, a full root filesystem, a guest that stops
 * answering (its agent stopped, or the whole VM paused through QMP), and a long stream of mixed
 * work that must not grow the host process. No QEMU is left behind after any of it.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { bootVm } from "../../lib/boot/index.js";
import { GuestDiskFullError, GuestOutOfMemoryError, type Vm } from "../../lib/vm/index.js";
import { AgentUnresponsiveError } from "../../lib/agent/index.js";
import { qemuPids, testImage } from "../support/images.js";

const sha = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

afterAll(async () => {
  expect(await qemuPids()).toEqual([]);
});

describe("busybox under load", () => {
  it("1,000 execs with 300 in flight, every result checked, and 8 copies in flight at once", async () => {
    await testImage("busybox");
    const vm = await bootVm({ image: "busybox" });
    try {
      let next = 0;
      const bad: string[] = [];
      let peakQueued = 0;
      const worker = async () => {
        while (next < 1000) {
          const i = next++;
          const run = vm.exec(["/bin/sh", "-c", "echo out-$0; echo err-$0 >&2; exit $(($0 % 5))", String(i)], { reject: false });
          peakQueued = Math.max(peakQueued, vm.stats().agent.queued);
          const r = await run;
          if (r.stdout !== `out-${i}\n` || r.stderr !== `err-${i}\n` || r.exitCode !== i % 5) bad.push(`${i}: ${JSON.stringify(r)}`);
        }
      };
      await Promise.all(Array.from({ length: 300 }, worker));
      expect(bad).toEqual([]);
      expect(peakQueued).toBeGreaterThan(0);
      expect(vm.stats().agent).toEqual({ running: 0, queued: 0, limit: 128 });

      const blobs = Array.from({ length: 8 }, (_, i) => randomBytes((1 + i) << 20));
      await Promise.all(blobs.map((b, i) => vm.copyIn(b, `/tmp/blob-${i}`)));
      const back = await Promise.all(blobs.map((_, i) => vm.copyOut(`/tmp/blob-${i}`)));
      expect(back.map(sha)).toEqual(blobs.map(sha));
    } finally {
      await vm.shutdown();
    }
  }, 300_000);

  it("a command that runs the guest out of memory is reported as the OOM killer's, and the VM goes on", async () => {
    const vm = await bootVm({ image: "busybox", memory: 256 });
    try {
      // tail keeps the whole "line" of newline-free zeros in memory until the OOM killer ends it.
      const error = await vm.exec("head -c 1000000000 /dev/zero | tail -n 1 >/dev/null").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GuestOutOfMemoryError);
      const oom = error as GuestOutOfMemoryError;
      expect(oom.killed.map((k) => k.command)).toContain("tail");
      expect(oom.message).toMatch(/The guest ran out of memory: its OOM killer killed tail \(pid \d+\)/);
      expect(oom.hint).toMatch(/The VM has 256 MiB; boot it with more, e\.g\. bootVm\(\{ memory: 512 \}\)/);
      expect((await vm.exec(["echo", "still here"])).stdout).toBe("still here\n");
    } finally {
      await vm.shutdown();
    }
  }, 180_000);
});

describe("Debian faults", () => {
  it("a full root filesystem gives the command's own error and a kbook hint", async () => {
    await testImage("debian");
    const vm = await bootVm({ image: "debian" });
    try {
      // Every free block, the 5% ext4 keeps for root included (the agent's commands run as root).
      const [free, block] = (await vm.exec(["stat", "-f", "-c", "%f %S", "/"])).stdout.trim().split(" ").map(Number);
      await vm.exec(["fallocate", "-l", String((free! - 64) * block!), "/root/fill"], { reject: false });
      const error = await vm.exec("head -c 8388608 /dev/urandom > /root/more && sync").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GuestDiskFullError);
      const full = error as GuestDiskFullError;
      expect(full.detail ?? "").toMatch(/No space left on device/);
      expect(full.message).toMatch(/A guest filesystem is full/);
      expect(full.hint).toMatch(/image's 2(\.0)? GiB disk.*kbook image build debian --disk-size 8G/);
      await expect(vm.copyIn(randomBytes(8 << 20), "/root/copied")).rejects.toBeInstanceOf(GuestDiskFullError);
      await vm.exec(["rm", "/root/fill"]);
      expect((await vm.exec(["echo", "room again"])).stdout).toBe("room again\n");
    } finally {
      await vm.shutdown();
    }
  }, 180_000);

  it("a guest whose agent is stopped: the call fails within the liveness timeout, the VM shuts down", async () => {
    const vm = await bootVm({ image: "debian" });
    const started = Date.now();
    try {
      const error = await vm.exec("kill -STOP $(pidof kbook-agent)").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AgentUnresponsiveError);
      expect((error as Error).message).toMatch(/The guest stopped answering: nothing came back for \d+\.\d s while `kill -STOP .*` ran\. Last console lines:/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await vm.shutdown();
    }
    expect(vm.running).toBe(false);
  }, 60_000);

  it("a VM paused through QMP: the call says QEMU has it paused; cont brings it back", async () => {
    const vm = await bootVm({ image: "debian" });
    try {
      const qmp = await vm.qmp();
      await qmp.execute("stop");
      const started = Date.now();
      const error = await vm.exec(["true"]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AgentUnresponsiveError);
      expect((error as Error).message).toMatch(/QEMU has the VM paused \(QMP query-status\)/);
      expect(Date.now() - started).toBeLessThan(15_000);
      await qmp.execute("cont");
      expect((await vm.exec(["echo", "back"])).stdout).toBe("back\n");
    } finally {
      await vm.shutdown();
    }
  }, 60_000);

  it("a long session of mixed work keeps the host process's heap flat", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const vm: Vm = await bootVm({ image: "debian" });
    try {
      const round = async () => {
        await Promise.all(Array.from({ length: 50 }, (_, i) => vm.exec(["echo", String(i)])));
        const data = randomBytes(1 << 20);
        await vm.copyIn(data, "/tmp/soak");
        expect(sha(await vm.copyOut("/tmp/soak"))).toBe(sha(data));
      };
      for (let i = 0; i < 5; i++) await round(); // warm up
      await vm.bpftrace("kprobe:do_sys_openat2 { @[comm] = count(); }", { duration: 1000 });
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 25; i++) await round();
      await vm.bpftrace("kprobe:do_sys_openat2 { @[comm] = count(); }", { duration: 1000 });
      gc();
      const growth = process.memoryUsage().heapUsed - before;
      // 1,250 commands and 50 MiB copied; a leak of even 1 kB per command would show.
      expect(growth).toBeLessThan(2 << 20);
    } finally {
      await vm.shutdown();
    }
  }, 300_000);
});

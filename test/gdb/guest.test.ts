/**
 * gdb against a real guest kernel through QEMU's gdbstub (TCG here): break on do_sys_openat2
 * and read the path `cat` opens, catch start_kernel from a paused boot, run `kbook gdb`, and
 * check that the stub listens on 127.0.0.1 only and that no gdb or QEMU is left behind.
 */
import { execa } from "execa";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Vm } from "../../lib/vm/index.js";
import type { GdbSession } from "../../lib/gdb/session.js";
import type { StoredImage } from "../../lib/images/index.js";
import { isRunning } from "../support/processes.js";

const cli = resolve("dist/lib/cli/main.js");

/** Live processes named `command` whose command line contains every one of `words`. */
async function pidsOf(command: string, ...words: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    const m = /^\d+ \((.*)\) (\S)/.exec(stat);
    if (!m || !m[1]!.startsWith(command) || m[2] === "Z") continue;
    const cmdline = (await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ");
    if (words.every((w) => cmdline.includes(w))) pids.push(Number(name));
  }
  return pids;
}


/** Listening sockets on a TCP port, as "address:port" from /proc/net/tcp and tcp6 (state 0A). */
async function listeners(port: number): Promise<string[]> {
  // A paused boot returns as soon as QEMU runs; give its gdbstub a moment to bind.
  for (let i = 0; i < 50; i++) {
    const found = await listenersNow(port);
    if (found.length) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

async function listenersNow(port: number): Promise<string[]> {
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue;
      const [address, hexPort] = local.split(":");
      if (parseInt(hexPort!, 16) === port) found.push(`${file.endsWith("6") ? "tcp6" : "tcp"} ${address}`);
    }
  }
  return found;
}

/**
 * The VM's gdb session: vm.gdb() once the VM class has it; until then the same call it makes
 * (connectGdb with the guest's facts) and the same wiring of stoppedReason.
 */
async function gdbFor(vm: Vm, image: StoredImage): Promise<GdbSession> {
  const withGdb = vm as Vm & { gdb?: () => Promise<GdbSession> };
  if (typeof withGdb.gdb === "function") return withGdb.gdb();
  const { connectGdb } = await import("../../lib/gdb/connect.js");
  const layout = image.manifest.layout;
  const session = await connectGdb({
    port: vm.gdbPort!,
    kernelPath: join(image.dir, layout.vmlinux ?? layout.kernel),
    kallsymsPath: image.manifest.kallsyms ? join(image.dir, image.manifest.kallsyms) : undefined,
    kernelRelease: layout.kernelRelease,
    nokaslr: /(^| )nokaslr( |$)/.test(vm.kernelCommandLine),
  });
  vm.stoppedReason = session.stoppedReason;
  session.onStateChange(() => (vm.stoppedReason = session.stoppedReason));
  return session;
}

describe("gdb on the Debian guest through QEMU's gdbstub", () => {
  let image: StoredImage;
  let bootVm: (typeof import("../../lib/boot/index.js"))["bootVm"];

  beforeAll(async () => {
    ({ bootVm } = await import("../../lib/boot/index.js"));
    const { testImage } = await import("../support/images.js");
    image = await testImage("debian");
  });

  it("breaks on do_sys_openat2 when cat opens a file, reads the path from $rsi, backtraces, continues", async () => {
    const vm = await bootVm({ image: image.dir, gdb: true });
    let g: GdbSession | undefined;
    try {
      // The gdbstub listens on loopback only, never on every interface as `-s` would.
      expect(await listeners(vm.gdbPort!)).toEqual(["tcp 0100007F"]);

      const path = `/tmp/kbook-gdb-${process.pid}.txt`;
      await vm.exec(["sh", "-c", `echo hello from the guest > ${path}`]);
      g = await gdbFor(vm, image);
      expect(g.kernelSymbols?.source).toBeDefined();
      expect(g.running).toBe(false);
      expect(vm.stoppedReason).toMatch(/stopped in gdb/);
      const bp = await g.break("do_sys_openat2");
      expect(bp.hardware).toBe(true);
      await g.continue();
      expect(vm.stoppedReason).toBeNull();

      // Not awaited: cat blocks in the kernel at the breakpoint until gdb lets it go.
      const cat = vm.exec(["cat", path], { timeoutMs: 120_000 });
      // Other processes open files too (the agent, the shell): stop until it is cat's path.
      let filename = "";
      let stop;
      const seen: string[] = [];
      for (let i = 0; i < 200 && filename !== path; i++) {
        stop = await g.waitForStop({ timeoutMs: 60_000 });
        expect(stop.function).toBe("do_sys_openat2");
        // do_sys_openat2(int dfd, const char __user *filename, struct open_how *how): filename in rsi.
        // A user page the process has not touched yet is not mapped, so gdb may not read it.
        filename = await g.readString("$rsi").catch((e: Error) => `(${e.message})`);
        seen.push(filename);
        if (filename !== path) await g.continue();
      }
      expect(filename, `paths opened: ${seen.join(", ")}`).toBe(path);
      expect(stop!.registerArgs?.find((a) => a.register === "rsi")?.value).toBe((await g.registers()).rsi);
      const bt = await g.backtrace();
      expect(bt[0]!.function).toBe("do_sys_openat2");
      expect(bt.slice(1, 4).map((f) => f.function)).toContain("__x64_sys_openat");
      const shown = (stop as unknown as Record<symbol, () => Record<string, string>>)[Symbol.for("Jupyter.display")]!();
      expect(shown["text/plain"]).toMatch(/in do_sys_openat2 at 0xffffffff/);
      expect(shown["text/html"]).toContain("__x64_sys_openat");

      // While the CPUs are halted, a guest command fails after its timeout and says why.
      expect(g.stoppedReason).toMatch(/do_sys_openat2/);
      const blocked = await vm.exec(["true"], { timeoutMs: 2000 }).catch((e: unknown) => e as Error);
      expect(String((blocked as Error).message) + String((blocked as { hint?: string }).hint ?? "")).toMatch(/gdb/);

      await g.delete();
      await g.continue();
      const result = await cat;
      expect(result.stdout).toBe("hello from the guest\n");
      expect(result.exitCode).toBe(0);
      await g.close();
      expect(g.state).toBe("closed");
      expect((await vm.exec(["echo", "running again"])).stdout).toBe("running again\n");
    } finally {
      await g?.close();
      await vm.shutdown();
    }
    // Nothing this test started may outlive it.
    expect(isRunning(g?.pid)).toBe(false);
    expect(isRunning(vm.pid)).toBe(false);
  });

  it("catches start_kernel from a paused boot, then lets the guest boot", async () => {
    const vm = await bootVm({ image: image.dir, gdb: true, paused: true });
    let g: GdbSession | undefined;
    try {
      expect(await listeners(vm.gdbPort!)).toEqual(["tcp 0100007F"]);
      g = await gdbFor(vm, image);
      const first = await g.waitForStop();
      // Held at reset: the CPU is nowhere near kernel addresses yet.
      expect(first.address! < 0xffffffff80000000n).toBe(true);
      await g.break("start_kernel");
      await g.continue();
      const stop = await g.waitForStop({ timeoutMs: 120_000 });
      expect(stop).toMatchObject({ reason: "breakpoint-hit", function: "start_kernel" });
      expect((await g.registers()).rip).toBe(stop.address);
      const { checkKernelAddresses } = await import("../../lib/gdb/connect.js");
      expect((await checkKernelAddresses(g, g.kernelSymbols!)).verdict).toBe("match");
      expect(await g.command("info symbol $pc")).toMatch(/^start_kernel in section/);
      await g.delete();
      await g.close();
      await vm.whenReady(120_000);
      expect((await vm.exec(["uname", "-r"])).stdout.trim()).toBe(image.manifest.layout.kernelRelease);
    } finally {
      await g?.close();
      await vm.shutdown();
    }
    expect(isRunning(g?.pid)).toBe(false);
    expect(isRunning(vm.pid)).toBe(false);
  });

  it("kbook gdb boots paused, runs gdb with symbols to start_kernel, and cleans up when gdb quits", async () => {
    const qemuBefore = await pidsOf("qemu-system", image.dir, "-gdb");
    const gdbBefore = await pidsOf("gdb", "target remote 127.0.0.1:");
    const run = await execa("node", [cli, "gdb", "--image", image.dir, "--break", "start_kernel", "--continue"], {
      input: "bt\ninfo symbol $pc\nquit\n",
      reject: false,
      timeout: 300_000,
    });
    expect(run.stderr).toMatch(/\[gdb\] symbols: \S+ \((kallsyms|debian-dbg|vmlinux)/);
    expect(run.stdout).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in start_kernel/);
    expect(run.stdout).toMatch(/#0 +0x[0-9a-f]+ in start_kernel/);
    expect(run.stdout).toMatch(/start_kernel in section/);
    expect(run.exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect((await pidsOf("qemu-system", image.dir, "-gdb")).filter((p) => !qemuBefore.includes(p))).toEqual([]);
    expect((await pidsOf("gdb", "target remote 127.0.0.1:")).filter((p) => !gdbBefore.includes(p))).toEqual([]);
  });
});

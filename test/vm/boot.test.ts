/**
 * The VM against real QEMU (TCG here): boot, the command channel, files, failures, cleanup.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootVm } from "../../lib/boot/index.js";
import { BootTimeoutError, GuestPanicError, QemuExitedError, type Vm } from "../../lib/vm/index.js";
import { UsageError, KbookError } from "../../lib/errors/index.js";
import { testImage, qemuPids } from "../support/images.js";
import type { ProgressEvent } from "../../lib/progress/index.js";

describe("busybox guest", () => {
  let vm: Vm;
  const progress: ProgressEvent[] = [];
  beforeAll(async () => {
    await testImage("busybox");
    // By name, so the boot goes through the image cache (a hit) as a notebook's does.
    vm = await bootVm({ image: "busybox", onProgress: (e) => progress.push(e) });
  });
  afterAll(async () => {
    await vm?.shutdown();
  });

  it("knows its kernel and how it was started", () => {
    expect(vm.info.kernelRelease).toMatch(/^\d+\.\d+\.\d+-/);
    expect(vm.info.nokaslr).toBe(true);
    expect(vm.commandLine).toMatch(/qemu-system-x86_64 .*-kernel \S+vmlinu/);
    expect(vm.kernelCommandLine).toMatch(/console=ttyS0 nokaslr/);
  });

  it("reports the boot's progress on one clock, with one end", () => {
    const stages = progress.map((e) => e.stage);
    expect(stages).toContain("cached"); // the image lookup, nested in the boot
    expect(stages.at(-1)).toBe("ready");
    expect(progress.filter((e) => e.done).map((e) => e.stage)).toEqual(["ready"]);
    const times = progress.map((e) => e.elapsedMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("runs argv and scripts with separate stdout, stderr and the exit status", async () => {
    const argv = await vm.exec(["echo", "a b", "$HOME"]);
    expect(argv.stdout).toBe("a b $HOME\n");
    const script = await vm.exec("echo out; echo err >&2; exit 7", { reject: false });
    expect(script).toMatchObject({ stdout: "out\n", stderr: "err\n", exitCode: 7, signal: null, timedOut: false });
    await expect(vm.exec("exit 3")).rejects.toThrow(/exit(ed)? (with )?(code )?3|code 3/);
  });

  it("streams output while the command runs", async () => {
    const chunks: string[] = [];
    const started = Date.now();
    let firstAt = 0;
    await vm.exec("echo first; sleep 1; echo second", {
      onStdout: (c) => {
        if (!firstAt) firstAt = Date.now() - started;
        chunks.push(Buffer.from(c).toString());
      },
    });
    expect(chunks.join("")).toBe("first\nsecond\n");
    expect(firstAt).toBeLessThan(900);
  });

  it("times out a command without killing the VM", async () => {
    const r = await vm.exec(["sleep", "30"], { timeoutMs: 500, reject: false, killGraceMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect((await vm.exec(["echo", "still here"])).stdout).toBe("still here\n");
  });

  it("interrupts a command with SIGINT first", async () => {
    const controller = new AbortController();
    const run = vm.exec(`trap 'echo got-int; exit 130' INT; echo ready; while :; do sleep 0.1; done`, {
      signal: controller.signal,
      reject: false,
      onStdout: (c) => {
        if (Buffer.from(c).toString().includes("ready")) controller.abort();
      },
    });
    const r = await run;
    expect(r.interrupted).toBe(true);
    expect(r.stdout).toContain("got-int");
    expect((await vm.exec(["true"])).exitCode).toBe(0);
  });

  it("runs several commands at once", async () => {
    const started = Date.now();
    const results = await Promise.all([1, 2, 3, 4].map((i) => vm.exec(`sleep 1; echo ${i}`)));
    expect(results.map((r) => r.stdout)).toEqual(["1\n", "2\n", "3\n", "4\n"]);
    expect(Date.now() - started).toBeLessThan(3500);
  });

  it("copies binary files both ways intact", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const dir = await mkdtemp(join(tmpdir(), "kbook-copy-"));
    const src = join(dir, "in.bin");
    await writeFile(src, data);
    await vm.copyIn(src, "/tmp/blob.bin");
    const guestSum = (await vm.exec(["sha256sum", "/tmp/blob.bin"])).stdout.split(" ")[0];
    expect(guestSum).toBe(createHash("sha256").update(data).digest("hex"));
    const back = join(dir, "out.bin");
    const bytes = await vm.copyOut("/tmp/blob.bin", back);
    expect(Buffer.compare(Buffer.from(bytes), data)).toBe(0);
    expect(Buffer.compare(await readFile(back), data)).toBe(0);
  });
});

describe("boot failures", () => {
  it("rejects a missing kernel before QEMU starts", async () => {
    const before = (await qemuPids()).length;
    await expect(bootVm({ image: (await testImage("busybox")).dir, kernel: "/nonexistent/bzImage" })).rejects.toThrow(UsageError);
    await expect(bootVm({ image: (await testImage("busybox")).dir, kernel: "/etc/hostname" })).rejects.toThrow(/not a Linux kernel image/);
    expect((await qemuPids()).length).toBe(before);
  });

  it("reports a kernel panic at once, with the panic text", async () => {
    const vm = await bootVm({ image: (await testImage("busybox")).dir });
    const started = Date.now();
    const error = await vm.exec("echo c > /proc/sysrq-trigger").catch((e) => e);
    expect(error).toBeInstanceOf(GuestPanicError);
    expect((error as GuestPanicError).message).toMatch(/panicked: sysrq triggered crash/);
    expect((error as GuestPanicError).reason).toBe("sysrq triggered crash");
    expect((error as GuestPanicError).panicText).toMatch(/Kernel panic - not syncing/);
    // Later calls say the same, typed, instead of "not running".
    await expect(vm.exec("true")).rejects.toBeInstanceOf(GuestPanicError);
    expect(Date.now() - started).toBeLessThan(15_000);
    await vm.shutdown();
    expect(vm.running).toBe(false);
  });

  it("recognises a panic during boot without waiting for the timeout", async () => {
    const started = Date.now();
    const error = await bootVm({ image: (await testImage("busybox")).dir, append: "rdinit=/no/such/init", bootTimeoutMs: 60_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(GuestPanicError);
    expect((error as KbookError).message).toMatch(/panicked during boot: (No working init found|VFS: Unable to mount root fs)/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("explains a boot timeout with the last console lines", async () => {
    const error = await bootVm({ image: (await testImage("busybox")).dir, bootTimeoutMs: 1500, verbose: true }).catch((e) => e);
    expect(error).toBeInstanceOf(BootTimeoutError);
    expect((error as KbookError).message).toMatch(/did not come up within 1.5 s/);
    expect((error as KbookError).detail ?? "").toMatch(/\S/);
    expect((error as BootTimeoutError).timeoutMs).toBe(1500);
  });

  it("says QEMU exited, with its stderr, when QEMU refuses the machine", async () => {
    // An initrd larger than guest memory: QEMU's x86 loader refuses it and exits before the guest runs.
    const dir = await mkdtemp(join(tmpdir(), "kbook-big-initrd-"));
    const initrd = join(dir, "initrd.img");
    await writeFile(initrd, "");
    await truncate(initrd, 300 * 1024 * 1024); // sparse: no disk used
    try {
      const error = await bootVm({ image: (await testImage("busybox")).dir, initrd, memory: 128 }).catch((e) => e);
      expect(error).toBeInstanceOf(QemuExitedError);
      expect((error as QemuExitedError).tool).toBe("qemu");
      expect((error as QemuExitedError).message).toMatch(/QEMU exited during boot \(code 1\)/);
      expect((error as QemuExitedError).stderrTail).toMatch(/initrd/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * What must hold whatever happens to the VM or to kbook: the base image is never written, and
 * no QEMU outlives the process that started it, even one killed with SIGKILL.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bootVm } from "../../lib/boot/index.js";
import { sha256File } from "../../lib/images/index.js";
import { testImage, qemuPids } from "../support/images.js";
import { isRunning } from "../support/processes.js";


describe("VM lifecycle", () => {
  it("never writes the base image: the guest writes go to an overlay", async () => {
    const image = await testImage("debian");
    const disk = join(image.dir, "disk.img");
    const before = await sha256File(disk);
    expect(before).toBe(image.manifest.files["disk.img"]!.sha256);
    const vm = await bootVm({ image: image.dir });
    try {
      await vm.exec("dd if=/dev/urandom of=/root/junk bs=1M count=8 2>/dev/null && sync && rm -f /etc/hostname && sync");
      expect((await vm.exec("test -e /etc/hostname", { reject: false })).exitCode).toBe(1);
    } finally {
      await vm.shutdown();
    }
    expect(await sha256File(disk)).toBe(before);
    // A second VM sees the pristine disk.
    const again = await bootVm({ image: image.dir });
    try {
      expect((await again.exec(["cat", "/etc/hostname"])).stdout).toBe("kbook\n");
    } finally {
      await again.shutdown();
    }
  });

  it("leaves no QEMU behind when the parent process is SIGKILLed", async () => {
    const image = await testImage("busybox");
    const dir = await mkdtemp(join(tmpdir(), "kbook-orphan-"));
    const script = join(dir, "parent.mjs");
    await writeFile(
      script,
      `import { bootVm } from ${JSON.stringify(resolve("dist/lib/boot/index.js"))};\n` +
        `const vm = await bootVm({ image: ${JSON.stringify(image.dir)} });\n` +
        `console.log("QEMU " + vm.pid);\nsetInterval(() => {}, 1000);\n`,
    );
    const parent = execa("node", [script], { reject: false, buffer: false });
    const pid = await new Promise<number>((ok, fail) => {
      let out = "";
      parent.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /QEMU (\d+)/.exec(out);
        if (m) ok(Number(m[1]));
      });
      parent.on("exit", () => fail(new Error(`parent exited early: ${out}`)));
    });
    expect(isRunning(pid)).toBe(true);
    parent.kill("SIGKILL");
    const deadline = Date.now() + 5000;
    while (isRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(pid)).toBe(false);
    expect(await qemuPids()).not.toContain(pid);
  });

  it("shutdown ends QEMU and is idempotent", async () => {
    const vm = await bootVm({ image: (await testImage("busybox")).dir });
    const pid = vm.pid!;
    await Promise.all([vm.shutdown(), vm.shutdown()]);
    expect(vm.running).toBe(false);
    expect(isRunning(pid)).toBe(false);
  });
});

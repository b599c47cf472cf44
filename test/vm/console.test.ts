import { describe, expect, it } from "vitest";
import { ConsoleMonitor } from "../../lib/vm/console.js";

describe("ConsoleMonitor", () => {
  it("recognises a panic as soon as its line arrives, even split across chunks", () => {
    const monitor = new ConsoleMonitor();
    const seen: string[] = [];
    monitor.onPanic((p) => seen.push(p.reason));
    monitor.feed("[    1.0] sysrq: Trigger a crash\r\n[    1.1] Kernel pa");
    expect(seen).toEqual([]);
    monitor.feed("nic - not syncing: sysrq triggered crash\r\n[    1.2] CPU: 0 PID: 1\r\n");
    expect(seen).toEqual(["sysrq triggered crash"]);
    expect(monitor.panic?.text).toContain("Trigger a crash");
  });

  it("reports a panic printed without a final newline", () => {
    const monitor = new ConsoleMonitor();
    monitor.feed("VFS: Unable to mount root fs\nKernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)");
    expect(monitor.panic?.reason).toBe("VFS: Unable to mount root fs on unknown-block(0,0)");
  });

  it("keeps the last lines for error reports", () => {
    const monitor = new ConsoleMonitor(100);
    for (let i = 0; i < 250; i++) monitor.feed(`line ${i}\n`);
    monitor.feed("partial");
    const last = monitor.lastLines(40).split("\n");
    expect(last).toHaveLength(40);
    expect(last[0]).toBe("line 211");
    expect(last.at(-1)).toBe("partial");
    expect(monitor.panic).toBeUndefined();
  });
});

describe("ConsoleMonitor partial panic lines", () => {
  it("reports at once from a partial line, then takes the complete reason", () => {
    const monitor = new ConsoleMonitor();
    const seen: string[] = [];
    monitor.onPanic((p) => seen.push(p.reason));
    monitor.feed("Kernel panic - not syncing: sysrq trigger");
    expect(seen).toEqual(["sysrq trigger"]);
    monitor.feed("ed crash\r\nCPU: 0 PID: 1\r\n");
    expect(monitor.panic?.reason).toBe("sysrq triggered crash");
    expect(seen).toHaveLength(1);
  });
});

describe("ConsoleMonitor poweroff", () => {
  it("resolves when the kernel prints its poweroff or halt line, also if it came first", async () => {
    const monitor = new ConsoleMonitor();
    let done = false;
    const waiting = monitor.whenPoweredOff().then(() => (done = true));
    monitor.feed("[   12.3] sd 0:0:0:0: [sda] Synchronizing SCSI cache\r\n");
    await Promise.resolve();
    expect(done).toBe(false);
    monitor.feed("[   12.4] reboot: Power down\r\n");
    await waiting;
    expect(done).toBe(true);
    const halted = new ConsoleMonitor();
    halted.feed("reboot: System halted\n");
    await expect(halted.whenPoweredOff()).resolves.toBeUndefined();
  });
});

/**
 * The remote-target path against a real QEMU gdbstub, without a guest OS: QEMU started with -S
 * holds the CPU at the x86 reset vector, which is enough to connect, read registers and memory,
 * single-step, continue, interrupt and detach.
 */
import { execa, type ResultPromise } from "execa";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkKernelAddresses, connectGdb } from "../../lib/gdb/connect.js";
import { interactiveGdbArgs } from "../../lib/gdb/interactive.js";
import { GdbError } from "../../lib/gdb/mi-channel.js";
import { GdbSession } from "../../lib/gdb/session.js";

let qemu: ResultPromise | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** A bare PC, CPUs held at reset, gdbstub on loopback (as kbook's VMs start it). */
async function startBareQemu(): Promise<number> {
  const port = await freePort();
  qemu = execa("qemu-system-x86_64", ["-machine", "pc", "-accel", "tcg", "-nodefaults", "-display", "none", "-m", "64M", "-S", "-gdb", `tcp:127.0.0.1:${port}`], {
    reject: false,
  });
  for (let i = 0; i < 100; i++) {
    const tcp = await readFile("/proc/net/tcp", "utf8");
    if (tcp.includes(`:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A`)) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("QEMU's gdbstub did not start listening");
}

function alive(pid: number | undefined): boolean {
  try {
    process.kill(pid!, 0);
    return true;
  } catch {
    return false;
  }
}

/** gdb processes this test process started that are still running (not zombies). */
async function childGdbs(): Promise<number[]> {
  const { readdir } = await import("node:fs/promises");
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    const stat = /^\d+$/.test(name) ? await readFile(`/proc/${name}/stat`, "utf8").catch(() => "") : "";
    const m = /^\d+ \((.*)\) (\S) (\d+)/.exec(stat);
    if (m && m[1] === "gdb" && m[2] !== "Z" && Number(m[3]) === process.pid) pids.push(Number(name));
  }
  return pids;
}

afterEach(async () => {
  qemu?.kill("SIGKILL");
  await qemu;
  qemu = undefined;
});

describe("GdbSession on QEMU's gdbstub", () => {
  it("connects at reset, reads registers and the reset vector, steps, runs, interrupts and detaches", async () => {
    const port = await startBareQemu();
    const g = await GdbSession.start();
    try {
      const stop = await g.targetRemote("127.0.0.1", port);
      expect(stop.reason).toBe("stopped");
      expect(stop.address).toBe(0xfff0n);
      expect(g.stoppedReason).toBe("stopped in gdb at 0xfff0 (stopped)");
      const regs = await g.registers();
      expect(regs.rip).toBe(0xfff0n);
      expect(regs.cs).toBe(0xf000n);
      // The reset vector at physical 0xffff0 holds a far jump (opcode 0xea) into the BIOS.
      const vector = await g.read(0xffff0n, 5);
      expect(vector[0]).toBe(0xea);
      const stepped = await g.stepInstruction();
      expect(stepped.address).not.toBe(0xfff0n);
      await g.continue();
      expect(g.running).toBe(true);
      expect(g.stoppedReason).toBeNull();
      const interrupted = await g.interrupt({ timeoutMs: 10_000 });
      expect(interrupted.reason).toBe("signal-received");
      expect(interrupted.signal).toBe("SIGINT");
      await g.detach();
      expect(g.state).toBe("detached");
      // After a detach the stub accepts the next debugger.
      const second = await GdbSession.start();
      await second.targetRemote("127.0.0.1", port);
      await second.close();
    } finally {
      await g.close();
    }
    expect(alive(g.pid)).toBe(false);
  });

  it("connectGdb says when there are no symbols, and that addresses cannot be checked at reset", async () => {
    const port = await startBareQemu();
    const g = await connectGdb({ port, kernelPath: "/bin/true", nokaslr: true });
    try {
      expect(g.kernelSymbols).toMatchObject({ source: "none", dwarf: false });
      expect(g.warnings.join("\n")).toMatch(/No kernel symbols: gdb can break on addresses only/);
      const bp = await g.break(0x100000n);
      expect(bp).toMatchObject({ hardware: true, addresses: [0x100000n] });
    } finally {
      await g.close();
    }
    expect(alive(g.pid)).toBe(false);

    const cacheDir = await mkdtemp(join(tmpdir(), "kbook-gdb-remote-"));
    const kallsymsPath = join(import.meta.dirname, "testdata", "kallsyms-6.1-sample");
    const withNames = await connectGdb({ port, kernelPath: "/bin/true", kallsymsPath, nokaslr: true, cacheDir });
    try {
      expect(withNames.kernelSymbols?.source).toBe("kallsyms");
      expect(await checkKernelAddresses(withNames, withNames.kernelSymbols!)).toEqual({
        verdict: "unknown",
        message: "The kernel is not running yet (CPUs at reset): symbol addresses can be checked once it is.",
      });
      expect((await withNames.break("do_sys_openat2")).addresses).toEqual([0xffffffff81363fa0n]);
    } finally {
      await withNames.close();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it("explains a refused connection and leaves no gdb behind", async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await connectGdb({ port, kernelPath: "/bin/true" }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(GdbError);
    expect((error as GdbError).message).toBe(`gdb could not connect to the gdbstub at 127.0.0.1:${port}.`);
    // gdb retries a refused connection until its connect-timeout (5 s here), then says so.
    expect((error as GdbError).detail).toMatch(/Connection (refused|timed out)/);
    expect((error as GdbError).hint).toMatch(/gdbstub/);
    expect(await childGdbs()).toEqual([]);
  });

  it("the interactive argv connects gdb's CLI to the stub and sets hardware breakpoints", async () => {
    const port = await startBareQemu();
    const args = interactiveGdbArgs({ port, symbols: { source: "none", dwarf: false, stableAddresses: true, warnings: [] }, breakpoints: ["0x100000"] });
    expect(args).toEqual(["-q", "-ex", `target remote 127.0.0.1:${port}`, "-ex", "hbreak *0x100000"]);
    const run = await execa("gdb", ["-nx", ...args], { input: "info registers rip\ninfo breakpoints\nquit\n", reject: false, timeout: 30_000 });
    expect(run.stdout).toMatch(/rip +0xfff0/);
    expect(run.stdout).toMatch(/hw breakpoint +keep y +0x0*100000/);
    expect(run.exitCode).toBe(0);
  });
});

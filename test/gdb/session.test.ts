import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GdbError, GdbTimeoutError } from "../../lib/gdb/mi-channel.js";
import { GdbSession, type GdbTargetState } from "../../lib/gdb/session.js";
import type { GdbStop } from "../../lib/gdb/stop.js";
import { isRunning } from "../support/processes.js";

// A real gdb on a real process: the C program in testdata, built with DWARF.
let dir: string;
let program: string;
const NAME = 'wörld <b>&"x"';


function display(stop: GdbStop): { "text/plain": string; "text/html": string } {
  return (stop as unknown as Record<symbol, () => { "text/plain": string; "text/html": string }>)[Symbol.for("Jupyter.display")]!();
}

async function inferiorPid(g: GdbSession): Promise<number> {
  const groups = (await g.mi("-list-thread-groups")).results.groups as { pid?: string }[];
  return Number(groups[0]!.pid);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kbook-gdb-test-"));
  program = join(dir, "target");
  execFileSync("gcc", ["-g", "-O0", "-o", program, join(import.meta.dirname, "testdata", "target.c")]);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("GdbSession on a host process", () => {
  it("breaks, continues, reads arguments, memory, strings and registers, steps, finishes and exits", async () => {
    const g = await GdbSession.start();
    const states: GdbTargetState[] = [];
    g.onStateChange((s) => states.push(s));
    try {
      await g.loadFile(program);
      // Before the process exists the native target has no debug registers: software breakpoint.
      const mainBp = await g.break("main", { hardware: false });
      expect(mainBp).toMatchObject({ number: 1, hardware: false, function: "main" });
      await g.run([NAME]);
      let stop = await g.waitForStop();
      expect(stop).toMatchObject({ reason: "breakpoint-hit", breakpoint: 1, function: "main" });
      expect(stop.args.map((a) => a.name)).toEqual(["argc", "argv"]);
      expect(stop.args[0]!.value).toBe("2");
      expect(g.running).toBe(false);
      expect(g.stoppedReason).toBe("stopped in gdb at main (breakpoint 1)");

      const greetBp = await g.break("greet");
      expect(greetBp.hardware).toBe(true);
      expect(greetBp.type).toBe("hw breakpoint");
      await g.continue();
      stop = await g.waitForStop();
      expect(stop).toMatchObject({ reason: "breakpoint-hit", breakpoint: greetBp.number, function: "greet" });
      expect(stop.file).toBe(join(import.meta.dirname, "testdata", "target.c"));
      expect(stop.backtrace.map((f) => f.function)).toEqual(["greet", "main"]);
      expect(stop.backtrace[1]!.args.map((a) => a.name)).toEqual(["argc", "argv"]);
      expect(stop.args.find((a) => a.name === "name")!.value).toContain("<b>&");

      // The display shows function, arguments and backtrace, and escapes what the program controls.
      const shown = display(stop);
      expect(shown["text/plain"]).toContain("in greet at 0x");
      expect(shown["text/plain"]).toContain("#1  0x");
      expect(shown["text/html"]).toContain("&lt;b&gt;&amp;");
      expect(shown["text/html"]).not.toContain("<b>&");

      const bt = await g.backtrace();
      expect(bt.map((f) => f.function)).toEqual(["greet", "main"]);
      expect(bt[0]!.line).toBe(stop.line);

      const regs = await g.registers();
      expect(regs.rip).toBe(stop.address);
      // x86-64 SysV: first argument in rdi.
      expect(regs.rdi).toBe(BigInt(await g.eval("(unsigned long)name")));
      expect(await g.readString("$rdi")).toBe(NAME);
      expect(await g.readString("name")).toBe(NAME);
      const bytes = await g.read("name", Buffer.byteLength(NAME));
      expect(Buffer.from(bytes).toString("utf8")).toBe(NAME);
      expect(Buffer.from(await g.read(regs.rdi!, 2))).toEqual(Buffer.from(NAME).subarray(0, 2));
      expect(await g.eval("p->x + p->y")).toBe("7");
      expect(await g.eval("*p")).toBe("{x = 3, y = 4}");

      const before = stop.line!;
      stop = await g.next(); // over strlen()
      expect(stop.reason).toBe("end-stepping-range");
      expect(stop.function).toBe("greet");
      expect(stop.line).toBe(before + 1);
      stop = await g.step(); // into add()
      expect(stop.function).toBe("add");
      expect(stop.args).toEqual([
        { name: "a", value: "3" },
        { name: "b", value: "4" },
      ]);

      stop = await g.finish();
      expect(stop.reason).toBe("function-finished");
      expect(stop.function).toBe("greet");
      expect(stop.returnValue).toBe("7");
      stop = await g.finish();
      expect(stop.function).toBe("main");
      expect(stop.returnValue).toBe(String(Buffer.byteLength(NAME) + 7));
      expect(display(stop)["text/plain"]).toContain(`returned ${Buffer.byteLength(NAME) + 7}`);

      await g.delete();
      expect(await g.command("info breakpoints")).toMatch(/No breakpoints/);
      await g.continue();
      stop = await g.waitForStop();
      expect(stop.reason).toBe("exited");
      expect(stop.exitCode).toBe(Buffer.byteLength(NAME) + 7);
      expect(g.state).toBe("exited");
      expect(display(stop)["text/plain"]).toMatch(/process exited/);
    } finally {
      await g.close();
    }
    expect(states).toContain("running");
    expect(states).toContain("stopped");
    expect(states.at(-1)).toBe("closed");
    expect(isRunning(g.pid)).toBe(false);
  });

  it("breaks on an address, and runs CLI commands with their output", async () => {
    const g = await GdbSession.start();
    try {
      await g.loadFile(program);
      await g.break("main", { hardware: false });
      await g.run();
      await g.waitForStop();
      const address = BigInt(await g.eval("(unsigned long)&add"));
      const bp = await g.break(address);
      expect(bp.addresses).toEqual([address]);
      await g.continue();
      const stop = await g.waitForStop();
      expect(stop.function).toBe("add");
      expect(stop.address).toBe(address);
      // gdb's own CLI, as the %%gdb magic sends it.
      expect(await g.command("info symbol $pc")).toMatch(/^add in section \.text/);
      expect(await g.command("print 6 * 7\nprint/x 255")).toBe("$1 = 42\n$2 = 0xff\n");
      const unmapped = await g.readString("(char *)0").catch((e: unknown) => e);
      expect(unmapped).toBeInstanceOf(GdbError);
      expect((unmapped as GdbError).message).toBe("Cannot read a string at 0x0 ((char *)0).");
      expect((unmapped as GdbError).hint).toMatch(/not mapped/);
      const error = await g.command("frobnicate").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GdbError);
      expect((error as GdbError).gdbMessage).toMatch(/Undefined command: "frobnicate"/);
      expect((error as GdbError).describe()).toContain("frobnicate");
      // Resume commands run in the background (the console interpreter would block gdb until the
      // target stops) and report the stop they reach.
      const started = Date.now();
      expect(await g.command("finish")).toMatch(/greet/);
      expect(g.state).toBe("stopped");
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await g.close();
    }
  });

  it("times out waiting for a stop with an error that says so, interrupts, and kills the process it started on close", async () => {
    const g = await GdbSession.start();
    let pid: number | undefined;
    try {
      await g.loadFile(program);
      await g.break("main", { hardware: false });
      await g.run(["x", "60"]);
      await g.waitForStop();
      pid = await inferiorPid(g);
      expect(isRunning(pid)).toBe(true);
      await g.delete();
      await g.continue();
      expect(g.running).toBe(true);
      expect(g.stoppedReason).toBeNull();
      const waited = await g.waitForStop({ timeoutMs: 300 }).catch((e: unknown) => e);
      expect(waited).toBeInstanceOf(GdbTimeoutError);
      expect((waited as GdbTimeoutError).message).toBe("The target did not stop within 0.3 s.");
      // Memory reads need a stopped thread: gdb's complaint comes with a hint.
      const busy = await g.read("$pc", 4).catch((e: unknown) => e);
      expect((busy as GdbError).hint).toMatch(/interrupt/);
      const stop = await g.interrupt();
      expect(stop).toMatchObject({ reason: "signal-received", signal: "SIGINT" });
      expect(stop.backtrace.some((f) => f.function === "main")).toBe(true);
    } finally {
      await g.close();
    }
    expect(isRunning(g.pid)).toBe(false);
    expect(isRunning(pid)).toBe(false);
  });

  it("attaches to a running process and detaches, leaving it running and untraced", async () => {
    const sleeper = spawn("/bin/sleep", ["60"], { stdio: "ignore" });
    const g = await GdbSession.start();
    try {
      const stop = await g.attach(sleeper.pid!);
      expect(g.state).toBe("stopped");
      expect(stop.backtrace.length).toBeGreaterThan(0);
      expect(readFileSync(`/proc/${sleeper.pid}/status`, "utf8")).toMatch(/^TracerPid:\s+[1-9]/m);
      await g.detach();
      expect(g.state).toBe("detached");
      expect(g.running).toBe(true);
      expect(readFileSync(`/proc/${sleeper.pid}/status`, "utf8")).toMatch(/^TracerPid:\s+0$/m);
      await g.close();
      expect(isRunning(g.pid)).toBe(false);
      expect(isRunning(sleeper.pid)).toBe(true);
    } finally {
      await g.close();
      sleeper.kill("SIGKILL");
    }
  });

  it("closing an attached session detaches instead of killing the target", async () => {
    const sleeper = spawn("/bin/sleep", ["60"], { stdio: "ignore" });
    const g = await GdbSession.start();
    try {
      await g.attach(sleeper.pid!);
      await g.continue();
      await g.close();
      expect(isRunning(g.pid)).toBe(false);
      expect(isRunning(sleeper.pid)).toBe(true);
      expect(readFileSync(`/proc/${sleeper.pid}/status`, "utf8")).toMatch(/^TracerPid:\s+0$/m);
      expect(g.state).toBe("closed");
      await expect(g.eval("1")).rejects.toThrow(/gdb exited/);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("says when gdb is not installed", async () => {
    const error = await GdbSession.start({ gdbPath: "/nonexistent/gdb" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GdbError);
    expect((error as GdbError).message).toBe("'/nonexistent/gdb' is not installed.");
    expect((error as GdbError).hint).toMatch(/kbook doctor --install/);
  });
});

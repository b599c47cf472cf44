/**
 * Completion and inspection that know kbook, over ZeroMQ against the built kernel: `vm.` lists
 * the VM's methods with their kinds, inspecting `bootVm` or `g.break` shows the signature and the
 * doc comment, %%bpftrace and %%gdb cells complete their own language, magic lines complete
 * options, and is_complete answers for TypeScript and for magics. (gdb's own `complete`, used
 * when a %%gdb session is open, is exercised by the guest magics test.)
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../lib/paths.js";
import { kernelSpec } from "../../lib/notebooks/kernelspec.js";
import { KernelClient } from "../../kernel/protocol/client.js";

const main = join(packageRoot(), "dist", "kernel", "main.js");

describe("completion and inspection in the kbook kernel", () => {
  let client: KernelClient;
  const complete = async (code: string, cursor = [...code].length) => (await client.request("complete_request", { code, cursor_pos: cursor })).content;
  const inspect = async (code: string, cursor = [...code].length) => (await client.request("inspect_request", { code, cursor_pos: cursor, detail_level: 0 })).content;
  const isComplete = async (code: string) => (await client.request("is_complete_request", { code })).content;

  beforeAll(async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first.`);
    client = await KernelClient.start(kernelSpec().argv, { cwd: join(packageRoot(), "test", "kernel") });
    await client.ready();
    // Declared, not booted: completion works from the types.
    const cell = await client.execute('import { bootVm, type Vm, type GdbSession } from "kbook";\nlet vm = undefined as unknown as Vm;\nlet g = undefined as unknown as GdbSession;');
    expect(cell.reply.content.status, JSON.stringify(cell.reply.content)).toBe("ok");
  }, 120_000);

  afterAll(async () => {
    await client?.shutdown();
  });

  test("vm. lists the VM's methods, each with its kind", async () => {
    const reply = await complete("vm.");
    const matches = reply.matches as string[];
    expect(matches).toEqual(expect.arrayContaining(["exec", "copyIn", "copyOut", "shutdown", "perf", "bpftrace"]));
    const types = (reply.metadata as { _jupyter_types_experimental: { text: string; type: string }[] })._jupyter_types_experimental;
    expect(types.find((t) => t.text === "exec")?.type).toBe("method");
    expect(reply).toMatchObject({ cursor_start: 3, cursor_end: 3 });
    const narrowed = await complete("vm.cop");
    expect(narrowed.matches).toEqual(["copyIn", "copyOut"]);
  });

  test("inspecting bootVm and g.break shows the signature and the doc comment", async () => {
    const boot = await inspect("bootVm");
    expect(boot.found).toBe(true);
    const bootText = String((boot.data as Record<string, string>)["text/plain"]);
    expect(bootText).toMatch(/function bootVm\(/);
    expect(bootText.split("\n").length).toBeGreaterThan(2); // the doc comment follows the signature
    const brk = await inspect("g.break");
    const brkText = String((brk.data as Record<string, string>)["text/plain"]);
    expect(brkText).toMatch(/GdbSession\.break\(location: Location/);
    expect(brkText).toContain("Sets a breakpoint on a function name");
    expect((brk.data as Record<string, string>)["text/markdown"]).toContain("```typescript");
  });

  test("%%bpftrace completes probe types where a probe goes, builtins and functions in actions", async () => {
    expect((await complete("%%bpftrace\nkret")).matches).toEqual(["kretprobe:", "kretfunc:"]);
    expect((await complete("%%bpftrace\nBEGIN, tracepoint:sched:sched_switch, ")).matches).toContain("kprobe:");
    const inAction = await complete("%%bpftrace\nkprobe:vfs_read { @[co");
    expect(inAction.matches).toEqual(["comm", "count"]);
    expect(inAction).toMatchObject({ cursor_start: [..."%%bpftrace\nkprobe:vfs_read { @[co"].length - 2 });
    expect((await complete("%%bpftrace\nkprobe:vfs_read { @ = hi")).matches).toEqual(["hist"]);
    // A kernel function after kprobe: is the guest's to know, not a static list's.
    expect((await complete("%%bpftrace\nkprobe:vfs_")).matches).toEqual([]);
  });

  test("%%gdb completes gdb commands, multi-word ones whole; the magic line completes options", async () => {
    const info = await complete("%%gdb\ninfo re");
    expect(info.matches).toEqual(["info registers"]);
    expect(info).toMatchObject({ cursor_start: 6 });
    expect((await complete("%%gdb\nbreak do_sys_openat2\nlx-d")).matches).toEqual(["lx-dmesg"]);
    expect((await complete("%%bpftrace --d")).matches).toEqual(["--duration"]);
    expect((await complete("%%gdb --")).matches).toEqual(expect.arrayContaining(["--vm", "--out"]));
    expect((await complete("%%b")).matches).toEqual(["%%bpftrace"]);
  });

  test("is_complete: TypeScript by its parser, magics by an empty last line or an open bpftrace block", async () => {
    expect(await isComplete("const a = [1,")).toMatchObject({ status: "incomplete" });
    expect(await isComplete("1 +* 2")).toEqual({ status: "invalid" });
    expect(await isComplete("%%sh")).toMatchObject({ status: "incomplete" });
    expect(await isComplete("%%sh\nuname -a\n")).toEqual({ status: "complete" });
    expect(await isComplete("%%bpftrace\nkprobe:vfs_read {\n")).toEqual({ status: "incomplete", indent: "    " });
  });
});

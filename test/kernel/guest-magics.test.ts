/**
 * The guest magics against real guests, through the built kernel: %%sh streaming in a VM a cell
 * booted, an interrupt of a long guest command, and, on the debian image, the default VM booted
 * by the first magic that needs one plus %%bpftrace and %%perf.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../lib/paths.js";
import { KernelClient } from "../../kernel/protocol/client.js";
import type { JupyterMessage } from "../../kernel/protocol/wire.js";
import { readFile } from "node:fs/promises";
import { qemuPids, testImage } from "../support/images.js";
import { isRunning } from "../support/processes.js";

/** QEMU processes started (directly or through a supervisor) by process `root`. */
async function qemuStartedBy(root: number): Promise<number[]> {
  const parentOf = async (pid: number) => {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? 0);
  };
  const mine: number[] = [];
  for (const pid of await qemuPids()) {
    for (let p = await parentOf(pid); p > 1; p = await parentOf(p)) {
      if (p === root) {
        mine.push(pid);
        break;
      }
    }
  }
  return mine;
}


const main = join(packageRoot(), "dist", "kernel", "main.js");

function stdout(outputs: JupyterMessage[]): string {
  return outputs.filter((m) => m.header.msg_type === "stream" && m.content.name === "stdout").map((m) => String(m.content.text)).join("");
}

async function startKernel(): Promise<KernelClient> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first.`);
  const client = await KernelClient.start([process.execPath, "--no-force-async-hooks-checks", main, "{connection_file}"], { cwd: join(packageRoot(), "test", "kernel") });
  await client.ready();
  return client;
}

describe("guest magics (busybox VM booted by a cell)", () => {
  let client: KernelClient;

  beforeAll(async () => {
    const image = await testImage("busybox");
    client = await startKernel();
    const boot = await client.execute(`import { bootVm } from "kbook";\nconst vm = await bootVm({ image: ${JSON.stringify(image.dir)} });`);
    expect(boot.reply.content).toMatchObject({ status: "ok" });
  });

  afterAll(async () => {
    // Shutting the kernel down shuts down the VMs its notebook booted.
    await client?.shutdown(60_000);
  });

  test("%%sh runs in the VM the notebook booted, streaming as the script goes", async () => {
    const { reply, outputs } = await client.execute("%%sh\necho one; sleep 1; echo two; uname -s");
    expect(reply.content.status).toBe("ok");
    expect(stdout(outputs)).toBe("one\ntwo\nLinux\n");
    expect(outputs.filter((m) => m.header.msg_type === "stream").length).toBeGreaterThanOrEqual(2);
    const bound = await client.execute("_.exitCode");
    expect(bound.outputs[0]!.content.data).toEqual({ "text/plain": "0" });
  });

  test("a failing script fails the cell, its output shown and its result still bound", async () => {
    const { reply, outputs } = await client.execute("%%sh --out failed\necho partial; exit 4");
    expect(reply.content).toMatchObject({ status: "error", evalue: "The %%sh script exited with status 4 in the guest." });
    expect(stdout(outputs)).toBe("partial\n");
    expect((await client.execute("failed.exitCode")).outputs[0]!.content.data).toEqual({ "text/plain": "4" });
  });

  test("an interrupt stops a long guest command, which does not keep running in the guest", async () => {
    const running = client.execute("%%sh\necho started; sleep 60; echo not-reached");
    await client.nextIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("started"), 30_000).catch(() => undefined);
    const interrupted = Date.now();
    await client.request("interrupt_request", {}, "control");
    const { reply, outputs } = await running;
    expect(reply.content.ename).toBe("Interrupted");
    expect(Date.now() - interrupted).toBeLessThan(5000);
    expect(stdout(outputs)).not.toContain("not-reached");
    const left = await client.execute("%%sh\nps -o args | grep -c '[s]leep 60' || true");
    expect(stdout(left.outputs).trim()).toBe("0");
  });

  test("%%gdb --vm NAME sends each line to that VM's gdb session", async () => {
    const image = await testImage("busybox");
    const boot = await client.execute(`const debugged = await bootVm({ image: ${JSON.stringify(image.dir)}, gdb: true });`);
    expect(boot.reply.content.status).toBe("ok");
    const { reply, outputs } = await client.execute("%%gdb --vm debugged\n# where the CPU is\ninfo registers rip");
    expect(reply.content.status).toBe("ok");
    expect(stdout(outputs)).toMatch(/^\(gdb\) info registers rip\nrip\s+0x[0-9a-f]+/);
    const transcript = await client.execute("_.length");
    expect(transcript.outputs[0]!.content.data).toEqual({ "text/plain": "1" });
    // With a session open, %%gdb completion is gdb's own `complete`: it knows the registers.
    const code = "%%gdb\ninfo registers r";
    const completion = await client.request("complete_request", { code, cursor_pos: code.length });
    expect(completion.content.matches).toEqual(expect.arrayContaining(["info registers rip", "info registers rax"]));
  });
});

describe("guest magics (the default debian VM)", () => {
  let client: KernelClient;

  beforeAll(async () => {
    await testImage("debian");
    client = await startKernel();
  });

  afterAll(async () => {
    if (!client) return;
    const booted = await qemuStartedBy(client.process.pid!);
    expect(booted.length).toBe(1);
    // A kernel shutdown shuts down the VMs the notebook booted: no QEMU outlives its kernel.
    await client.shutdown(60_000);
    expect(booted.filter(isRunning)).toEqual([]);
  });

  test("the first guest magic boots the default VM, showing its progress", async () => {
    const { reply, outputs } = await client.execute("%%sh\nuname -r");
    expect(reply.content.status).toBe("ok");
    const progress = outputs.filter((m) => m.header.msg_type === "display_data" || m.header.msg_type === "update_display_data");
    expect(String((progress[0]!.content.data as Record<string, string>)["text/plain"])).toContain("booting the default VM");
    expect(stdout(outputs)).toMatch(/^\d+\.\d+\.\d+/);
  }, 300_000);

  test("%%bpftrace shows the typed result and binds it", async () => {
    const { reply, outputs } = await client.execute("%%bpftrace --duration 3s --out ticks\nprofile:hz:99 { @[kstack] = count(); }");
    expect(reply.content.status).toBe("ok");
    const result = outputs.find((m) => m.header.msg_type === "execute_result");
    expect(Object.keys(result!.content.data as object).length).toBeGreaterThan(1);
    expect((await client.execute("ticks === _")).outputs[0]!.content.data).toEqual({ "text/plain": "true" });
  }, 300_000);

  test("%%perf records a guest command and shows the flame graph", async () => {
    const { reply, outputs } = await client.execute("%%perf -F 499 -a -g -- dd if=/dev/zero of=/dev/null bs=64k count=20000");
    expect(reply.content.status).toBe("ok");
    const result = outputs.find((m) => m.header.msg_type === "execute_result");
    expect(String((result!.content.data as Record<string, string>)["image/svg+xml"])).toMatch(/<svg[\s\S]*dd/);
  }, 300_000);
});

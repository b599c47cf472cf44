import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { execa } from "execa";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { AgentError, buildAgent } from "../../lib/agent/index.js";
import { FRAME_MAGIC, FrameDecoder, FrameType, HEADER_SIZE, encodeExecRequest, encodeFrame } from "../../lib/agent/protocol.js";
import { startAgent } from "./agent-process.js";

const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

describe("bad frames from the host", () => {
  it("are reported and skipped; the agent keeps serving", async () => {
    const errors: string[] = [];
    const agent = await startAgent({ onProtocolError: (m) => errors.push(m) });
    try {
      await agent.client.waitReady({ timeoutMs: 5000 });
      const badCheck = encodeFrame(FrameType.Ping, 7);
      badCheck[6] ^= 0xff;
      const tooLong = encodeFrame(FrameType.Ping, 8);
      tooLong.writeUInt32LE(0x7fffffff, 12);
      agent.writeRaw(Buffer.from("garbage \x6b\x62 more garbage"));
      agent.writeRaw(badCheck);
      agent.writeRaw(tooLong);
      agent.writeRaw(encodeFrame(0x42, 9, Buffer.from("unknown type")));
      agent.writeRaw(encodeFrame(FrameType.Exec, 10, Buffer.from("not an exec request")));
      const result = await agent.client.exec(["echo", "still here"]);
      expect(result.stdout).toBe("still here\n");
      expect(errors.some((m) => m.includes("bad frame from host"))).toBe(true);
      expect(errors.some((m) => m.includes("unknown frame type 0x42"))).toBe(true);
      expect(errors.some((m) => m.includes("malformed exec request"))).toBe(true);
    } finally {
      await agent.stop();
    }
  });

  it("the handshake survives the tail of a frame lost before the agent listened", async () => {
    const agent = await startAgent();
    try {
      // What the agent sees when the start of a frame was lost: a header's last bytes plus a
      // payload, before anything valid. A partial header that claims a long payload swallows
      // the following pings; the client keeps pinging until one gets through.
      const exec = encodeFrame(FrameType.Exec, 1, Buffer.alloc(300));
      agent.writeRaw(exec.subarray(5));
      agent.writeRaw(exec.subarray(0, HEADER_SIZE));
      const hello = await agent.client.waitReady({ timeoutMs: 10_000 });
      expect(hello.kernelRelease.length).toBeGreaterThan(0);
      expect((await agent.client.exec("echo ok", { timeoutMs: 5000 })).stdout).toBe("ok\n");
    } finally {
      await agent.stop();
    }
  });
});

describe("the agent's frame decoder", () => {
  it("answers every ping that follows random garbage (fuzzed, raw frames)", async () => {
    const child = execa(await buildAgent(), ["--stdio"], { stdin: "pipe", stdout: "pipe", reject: false, buffer: false });
    const answered = new Set<number>();
    const agentErrors: string[] = [];
    const decoder = new FrameDecoder({
      onFrame: (f) => {
        if (f.type === FrameType.Hello) answered.add(f.id);
        if (f.type === FrameType.Error) agentErrors.push(Buffer.from(f.payload).toString());
      },
      onError: (m) => agentErrors.push(`host decoder: ${m}`),
    });
    child.stdout.on("data", (chunk: Buffer) => decoder.push(chunk));
    let nonce = 1;
    try {
      await fc.assert(
        fc.asyncProperty(
          // Garbage without the magic's first byte cannot hide a header, so no ping may be lost.
          fc.array(fc.uint8Array({ maxLength: 300 }).map((g) => g.map((b) => (b === FRAME_MAGIC[0] ? 1 : b))), { minLength: 1, maxLength: 5 }),
          async (garbages) => {
            const nonces: number[] = [];
            for (const garbage of garbages) {
              nonces.push(nonce);
              child.stdin.write(Buffer.concat([garbage, encodeFrame(FrameType.Ping, nonce++)]));
            }
            const done = await waitUntil(() => nonces.every((n) => answered.has(n)), 5000);
            expect(done).toBe(true);
          },
        ),
        { numRuns: 40 },
      );
      expect(agentErrors.every((m) => m.includes("bad frame from host"))).toBe(true);
    } finally {
      child.kill("SIGKILL");
      await child;
    }
  });
});

describe("bad bytes from the guest", () => {
  it("are skipped by the client, which resynchronises on the next frame", async () => {
    const errors: string[] = [];
    const agent = await startAgent({
      onProtocolError: (m) => errors.push(m),
      readable: (stdout) => {
        const joined = new PassThrough();
        joined.write(Buffer.from([0x6b, 0x62, 0x41, 0xf1, 1, 2, 3, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0x6b]));
        stdout.pipe(joined);
        return joined;
      },
    });
    try {
      await agent.client.waitReady({ timeoutMs: 5000 });
      expect((await agent.client.exec("echo synced")).stdout).toBe("synced\n");
      expect(errors).toEqual([expect.stringContaining("resynchronising")]);
    } finally {
      await agent.stop();
    }
  });
});

describe("the channel closing", () => {
  it("rejects pending calls and later ones with an AgentError", async () => {
    const agent = await startAgent();
    await agent.client.waitReady({ timeoutMs: 5000 });
    const pending = agent.client.exec("sleep 10").catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    agent.process.kill("SIGKILL");
    const error = await pending;
    expect(error).toBeInstanceOf(AgentError);
    expect((error as Error).message).toMatch(/closed while `sleep 10` was running/);
    await expect(agent.client.exec("true")).rejects.toThrow(/channel to the guest agent is closed/);
    await expect(agent.client.waitReady()).rejects.toBeInstanceOf(AgentError);
    await agent.stop();
  });

  it("close() rejects pending calls and the agent kills their process groups", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kbook-agent-close-"));
    const agent = await startAgent();
    try {
      const pidFile = join(dir, "pid");
      const pending = agent.client.exec(["sh", "-c", 'sleep 30 & echo $! > "$1"; wait', "sh", pidFile]).catch((e: unknown) => e);
      let pid = 0;
      await waitUntil(() => {
        readFile(pidFile, "utf8").then((t) => (pid = Number(t.trim())), () => undefined);
        return pid > 0;
      }, 5000);
      expect(processAlive(pid)).toBe(true);
      agent.client.close();
      expect(await pending).toBeInstanceOf(AgentError);
      expect(await waitUntil(() => !processAlive(pid), 5000)).toBe(true);
      expect((await agent.process).exitCode).toBe(0);
    } finally {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a new host", () => {
  it("ends the commands an earlier host left running", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kbook-agent-session-"));
    const agent = await startAgent();
    try {
      // An earlier host's command, sent as raw frames before this client's handshake.
      const pidFile = join(dir, "pid");
      const request = encodeExecRequest({ argv: ["sh", "-c", 'echo $$ > "$1"; exec sleep 30', "sh", pidFile] });
      agent.writeRaw(Buffer.concat([encodeFrame(FrameType.Exec, 77, request), encodeFrame(FrameType.StdinEof, 77)]));
      let pid = 0;
      await waitUntil(() => {
        readFile(pidFile, "utf8").then((t) => (pid = Number(t.trim()) || 0), () => undefined);
        return pid > 0;
      }, 5000);
      expect(processAlive(pid)).toBe(true);
      await agent.client.waitReady({ timeoutMs: 5000 });
      // The sleep is the agent's own child, reaped by it at once.
      expect(await waitUntil(() => !processAlive(pid), 3000)).toBe(true);
      // Ids restart with each host: id 77 must be free for this one.
      const results = await Promise.all(Array.from({ length: 80 }, (_, i) => agent.client.exec(["echo", String(i)])));
      expect(results[76]!.stdout).toBe("76\n");
    } finally {
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a guest that cannot answer", () => {
  it("fails a timed-out call at once with the stall reason, then recovers", async () => {
    let stalled = false;
    const agent = await startAgent({ describeStall: () => (stalled ? "the guest is stopped in gdb" : null) });
    try {
      await agent.client.waitReady({ timeoutMs: 5000 });
      // SIGSTOP freezes the agent the way a gdbstub halt freezes the guest.
      agent.process.kill("SIGSTOP");
      stalled = true;
      const started = Date.now();
      const error = await agent.client.exec("sleep 5", { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AgentError);
      expect((error as Error).message).toContain("the guest is stopped in gdb");
      expect(Date.now() - started).toBeLessThan(2000);
      await expect(agent.client.ping({ timeoutMs: 200 })).rejects.toThrow(/stopped in gdb/);

      agent.process.kill("SIGCONT");
      stalled = false;
      expect((await agent.client.exec("echo back")).stdout).toBe("back\n");
    } finally {
      await agent.stop();
    }
  });

  it("gives up after SIGKILL plus a margin when the guest is silent for no known reason", async () => {
    const agent = await startAgent();
    try {
      await agent.client.waitReady({ timeoutMs: 5000 });
      agent.process.kill("SIGSTOP");
      const error = await agent.client.exec("sleep 30", { timeoutMs: 100, killGraceMs: 100 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AgentError);
      expect((error as Error).message).toMatch(/timed out after 100 ms, and the guest did not report its exit even after SIGKILL/);
      agent.process.kill("SIGCONT");
    } finally {
      await agent.stop();
    }
  }, 15_000);
});

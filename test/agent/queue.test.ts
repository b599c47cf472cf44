/**
 * Past the agent's limit of commands at once (128), against the real agent: the client queues
 * the rest in call order, with the same timeout and abort semantics (a queued command that ends
 * never starts), and shows the queue in stats(). And sessions told apart: a HELLO that answers
 * another session's ping (bytes from before a save) does not complete this one's handshake.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { AgentError, AgentUnresponsiveError, GuestCommandError } from "../../lib/agent/index.js";
import { encodeFrame, encodeHello, FrameType, PROTOCOL_VERSION } from "../../lib/agent/protocol.js";
import { startAgent, type AgentUnderTest } from "./agent-process.js";

let agent: AgentUnderTest;
let dir: string;

beforeAll(async () => {
  agent = await startAgent();
  await agent.client.waitReady({ timeoutMs: 5000 });
  dir = await realpath(await mkdtemp(join(tmpdir(), "kbook-agent-queue-")));
});
afterAll(async () => {
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("commands beyond the agent's limit", () => {
  it("runs 1,000 commands with 300 in flight at once, every result right", async () => {
    let next = 0;
    let peakQueued = 0;
    let peakRunning = 0;
    const results: { i: number; ok: boolean }[] = [];
    const worker = async () => {
      while (next < 1000) {
        const i = next++;
        const run = agent.client.exec(["/bin/sh", "-c", `echo out-$0; echo err-$0 >&2; exit $(($0 % 7))`, String(i)], { reject: false });
        const s = agent.client.stats();
        peakQueued = Math.max(peakQueued, s.queued);
        peakRunning = Math.max(peakRunning, s.running);
        const r = await run;
        results.push({ i, ok: r.stdout === `out-${i}\n` && r.stderr === `err-${i}\n` && r.exitCode === i % 7 });
      }
    };
    await Promise.all(Array.from({ length: 300 }, worker));
    expect(results).toHaveLength(1000);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(peakRunning).toBe(128);
    expect(peakQueued).toBeGreaterThan(100);
    expect(agent.client.stats()).toEqual({ running: 0, queued: 0, limit: 128 });
  }, 120_000);

  it("starts queued commands in call order", async () => {
    const blockers = Array.from({ length: 128 }, () => agent.client.exec(["sleep", "0.5"]));
    const order: number[] = [];
    const queued = Array.from({ length: 20 }, (_, i) => agent.client.exec(["true"]).then(() => order.push(i)));
    expect(agent.client.stats().queued).toBe(20);
    await Promise.all([...blockers, ...queued]);
    // Exits come back in any order, but none of the queued ran before a slot was free.
    expect(order.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("a queued command that times out or is aborted never starts; a running one is stopped", async () => {
    const blockers = Array.from({ length: 128 }, () => agent.client.exec(["sleep", "2"]));
    const marker = (name: string) => join(dir, name);
    const timedOut = agent.client.exec(["touch", marker("timed-out")], { timeoutMs: 300 });
    const controller = new AbortController();
    const aborted = agent.client.exec(["touch", marker("aborted")], { signal: controller.signal });
    const preAborted = agent.client.exec(["touch", marker("pre-aborted")], { signal: AbortSignal.abort() });
    expect(agent.client.stats().queued).toBe(2);
    setTimeout(() => controller.abort(), 100);
    const [t, a, p] = await Promise.all([timedOut, aborted, preAborted].map((x) => x.catch((e: unknown) => e)));
    for (const error of [t, a, p]) expect(error).toBeInstanceOf(AgentError);
    expect(String((t as Error).message)).toMatch(/timed out after 300 ms while it waited for its turn \(128 commands running, the agent's limit of 128; \d+ more waiting\); it never started/);
    expect(String((a as Error).message)).toMatch(/was interrupted while it waited for its turn/);
    expect(agent.client.stats().queued).toBe(0);
    await Promise.all(blockers);
    await new Promise((r) => setTimeout(r, 200));
    expect(await readdir(dir)).toEqual([]);

    // Running commands: the same semantics as before the queue.
    const slow = agent.client.exec(["sleep", "30"], { timeoutMs: 300 }).catch((e: unknown) => e);
    const running = new AbortController();
    const interrupted = agent.client.exec(["sleep", "30"], { signal: running.signal }).catch((e: unknown) => e);
    setTimeout(() => running.abort(), 200);
    const [slowError, interruptedError] = await Promise.all([slow, interrupted]);
    expect(slowError).toBeInstanceOf(GuestCommandError);
    expect((slowError as GuestCommandError).result.timedOut).toBe(true);
    expect((interruptedError as GuestCommandError).result.interrupted).toBe(true);
    expect(agent.client.stats()).toEqual({ running: 0, queued: 0, limit: 128 });
  }, 60_000);
});

describe("sessions told apart", () => {
  it("ignores a HELLO answering another session's ping before its own handshake", async () => {
    // The stale bytes a resumed guest may hold: the agent's answer to the saving host's pings
    // 1..3. The client's nonces start at a random number, so they are not its answer.
    const hello = encodeHello({ protocolVersion: PROTOCOL_VERSION, version: "1.0+stale", kernelRelease: "stale" });
    const stale = Buffer.concat([1, 2, 3].map((n) => encodeFrame(FrameType.Hello, n, hello)));
    const fresh = await startAgent({
      readable: (stdout) => {
        const out = new PassThrough();
        out.write(stale);
        stdout.pipe(out);
        return out;
      },
    });
    try {
      const ready = await fresh.client.waitReady({ timeoutMs: 5000 });
      expect(ready.version).not.toBe("1.0+stale");
      expect((await fresh.client.exec(["echo", "in sync"])).stdout).toBe("in sync\n");
    } finally {
      await fresh.stop();
    }
  });
});

describe("a wedged agent", () => {
  it("fails outstanding calls within the liveness timeout, naming the command, and recovers when it answers again", async () => {
    const wedged = await startAgent({ livenessTimeoutMs: 1500, describeUnresponsive: () => "console: (test)" });
    try {
      await wedged.client.waitReady({ timeoutMs: 5000 });
      wedged.process.kill("SIGSTOP");
      const started = Date.now();
      const [running, queued] = await Promise.all([
        wedged.client.exec(["sleep", "1"]).catch((e: unknown) => e),
        wedged.client.exec(["echo", "later"]).catch((e: unknown) => e),
      ]);
      const waited = Date.now() - started;
      expect(running).toBeInstanceOf(AgentUnresponsiveError);
      expect(String((running as Error).message)).toMatch(/^The guest stopped answering: nothing came back for \d+\.\d s while `sleep 1` ran\. console: \(test\)$/);
      expect(String((queued as Error).message)).toMatch(/while `echo later` ran/);
      expect(waited).toBeGreaterThan(1400);
      expect(waited).toBeLessThan(4000);
      wedged.process.kill("SIGCONT");
      expect((await wedged.client.exec(["echo", "back"])).stdout).toBe("back\n");
    } finally {
      wedged.process.kill("SIGCONT");
      await wedged.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestCommandError } from "../../lib/agent/index.js";
import { KbookError, UsageError } from "../../lib/errors/index.js";
import { startAgent, type AgentUnderTest } from "./agent-process.js";

let agent: AgentUnderTest;
let dir: string;

beforeAll(async () => {
  agent = await startAgent();
  dir = await realpath(await mkdtemp(join(tmpdir(), "kbook-agent-exec-")));
});
afterAll(async () => {
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("AgentClient.exec over the real agent", () => {
  it("says hello with a version and the kernel release", async () => {
    const hello = await agent.client.waitReady({ timeoutMs: 5000 });
    expect(hello.version).toMatch(/^1\.0\+[0-9a-f]{16}$/);
    const uname = await agent.client.exec(["uname", "-r"]);
    expect(hello.kernelRelease).toBe(uname.stdout.trim());
  });

  it("streams stdout and stderr separately and returns the exit code", async () => {
    const seen: string[] = [];
    const result = await agent.client.exec("echo out1; echo err1 >&2; echo out2; exit 3", {
      reject: false,
      onStdout: (c) => seen.push(`o:${Buffer.from(c).toString()}`),
      onStderr: (c) => seen.push(`e:${Buffer.from(c).toString()}`),
    });
    expect(result.argv).toEqual(["/bin/sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 3"]);
    expect(result.stdout).toBe("out1\nout2\n");
    expect(result.stderr).toBe("err1\n");
    expect(result.exitCode).toBe(3);
    expect(result.signal).toBeNull();
    expect(seen.join("")).toContain("e:err1");
  });

  it("runs argv without a shell, passing env and cwd", async () => {
    const result = await agent.client.exec(["sh", "-c", 'printf "%s|%s|%s" "$FOO" "$(pwd)" "$1"', "sh", "$HOME; `x`"], {
      env: { FOO: "a b=c" },
      cwd: dir,
    });
    expect(result.stdout).toBe(`a b=c|${dir}|$HOME; \`x\``);
  });

  it("rejects a failing command with a GuestCommandError naming it", async () => {
    const error = await agent.client.exec("echo oops >&2; exit 2").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestCommandError);
    expect(error).toBeInstanceOf(KbookError);
    const failure = error as GuestCommandError;
    expect(failure.result.exitCode).toBe(2);
    expect(failure.message).toContain("echo oops >&2; exit 2");
    expect(failure.message).toContain("code 2");
    expect(failure.describe()).toContain("oops");
  });

  it("reports death by a signal", async () => {
    const result = await agent.client.exec("kill -TERM $$", { reject: false });
    expect(result).toMatchObject({ exitCode: null, signal: "SIGTERM", timedOut: false, interrupted: false });
  });

  it("reports a program that cannot start like a shell (127)", async () => {
    const result = await agent.client.exec(["/no/such/program", "x"], { reject: false });
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toContain("/no/such/program");
    expect(result.stderr).toContain("No such file");
    const badCwd = await agent.client.exec(["true"], { cwd: "/no/such/dir", reject: false });
    expect(badCwd.stderr).toContain("/no/such/dir");
    expect(badCwd.exitCode).not.toBe(0);
  });

  it("feeds stdin, text and binary", async () => {
    expect((await agent.client.exec(["cat"], { input: "hello\nworld" })).stdout).toBe("hello\nworld");
    const data = randomBytes(5_000_000);
    const result = await agent.client.exec(["sha256sum"], { input: data });
    expect(result.stdout.split(" ")[0]).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("does not hang when the command ignores a large stdin", async () => {
    const result = await agent.client.exec(["true"], { input: randomBytes(3_000_000) });
    expect(result.exitCode).toBe(0);
  });

  it("times out with SIGINT", async () => {
    const started = Date.now();
    const result = await agent.client.exec("sleep 10", { timeoutMs: 300, reject: false });
    expect(result).toMatchObject({ timedOut: true, interrupted: false, signal: "SIGINT", exitCode: null });
    expect(Date.now() - started).toBeLessThan(3000);
    const error = await agent.client.exec("sleep 10", { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestCommandError);
    expect((error as Error).message).toMatch(/timed out after \d+ ms/);
  });

  it("escalates to SIGKILL when SIGINT is ignored", async () => {
    const result = await agent.client.exec("trap '' INT; sleep 10", { timeoutMs: 200, killGraceMs: 300, reject: false });
    expect(result).toMatchObject({ timedOut: true, signal: "SIGKILL" });
    expect(result.durationMs).toBeLessThan(3000);
  });

  it("interrupts through an AbortSignal: the process group gets SIGINT", async () => {
    const abort = new AbortController();
    const result = await agent.client.exec("trap 'echo got-int; exit 130' INT; echo ready; sleep 10; echo not-reached", {
      signal: abort.signal,
      reject: false,
      // Not at once: a SIGINT landing between dash's fork and the child's exec of sleep is lost
      // in the child (it still has dash's handler), and dash runs its trap only after sleep ends.
      onStdout: (chunk) => {
        if (Buffer.from(chunk).toString().includes("ready")) setTimeout(() => abort.abort(), 200);
      },
    });
    expect(result.interrupted).toBe(true);
    expect(result.stdout).toBe("ready\ngot-int\n");
    expect(result.exitCode).toBe(130);
    expect(result.durationMs).toBeLessThan(3000);
  });

  it("gives commands default signal dispositions even when the agent ignores SIGINT", async () => {
    const background = await startAgent({ asBackgroundJob: true });
    try {
      const agentStatus = await background.client.exec(["sh", "-c", "grep SigIgn /proc/$PPID/status"]);
      expect(BigInt(`0x${agentStatus.stdout.split(/\s+/)[1]}`) & 2n).toBe(2n); // SIGINT (bit 1) ignored
      const result = await background.client.exec("trap 'echo got-int; exit 130' INT; sleep 10", {
        timeoutMs: 300,
        killGraceMs: 5000,
        reject: false,
      });
      expect(result).toMatchObject({ timedOut: true, exitCode: 130, stdout: "got-int\n" });
    } finally {
      await background.stop();
    }
  });

  it("runs commands concurrently, each with its own output", async () => {
    const started = Date.now();
    const runs = Array.from({ length: 8 }, (_, i) => agent.client.exec(`sleep 0.5; echo out${i}; echo err${i} >&2; exit ${i}`, { reject: false }));
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect(r.stdout).toBe(`out${i}\n`);
      expect(r.stderr).toBe(`err${i}\n`);
      expect(r.exitCode).toBe(i);
    });
    expect(Date.now() - started).toBeLessThan(8 * 500);
  });

  it("refuses requests the agent could not run, before sending them", async () => {
    await expect(agent.client.exec([])).rejects.toBeInstanceOf(UsageError);
    await expect(agent.client.exec(["echo", "a\0b"])).rejects.toThrow(/NUL byte/);
    await expect(agent.client.exec(["true"], { env: { "A=B": "x" } })).rejects.toBeInstanceOf(UsageError);
    await expect(agent.client.exec(["echo", "x".repeat(2 << 20)])).rejects.toThrow(/at most 1048576 fit/);
    expect((await agent.client.exec(["echo", "x".repeat(100_000)])).stdout.length).toBe(100_001);
  });

  it("answers pings", async () => {
    expect(await agent.client.ping()).toBeGreaterThan(0);
  });
});

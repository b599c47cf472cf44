import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { GuestCommandError } from "../../lib/agent/index.js";
import { UsageError } from "../../lib/errors/index.js";
import { startAgent, type AgentUnderTest } from "./agent-process.js";

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

let agent: AgentUnderTest;
let dir: string;
let payload: Buffer;
let payloadPath: string;

beforeAll(async () => {
  agent = await startAgent();
  dir = await mkdtemp(join(tmpdir(), "kbook-agent-transfer-"));
  payload = randomBytes(20 * 1024 * 1024);
  payloadPath = join(dir, "payload.bin");
  await writeFile(payloadPath, payload, { mode: 0o750 });
});
afterAll(async () => {
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("binary transfers", () => {
  it("returns 20 MB of binary stdout intact", async () => {
    const result = await agent.client.exec(["cat", payloadPath]);
    expect(result.stdoutBytes.length).toBe(payload.length);
    expect(sha256(result.stdoutBytes)).toBe(sha256(payload));
  });

  it("copies a 20 MB random file in and out (sha256), keeping its mode", async () => {
    const guestPath = join(dir, "in-guest.bin");
    await agent.client.copyIn(payloadPath, guestPath);
    expect(sha256(await readFile(guestPath))).toBe(sha256(payload));
    expect((await stat(guestPath)).mode & 0o777).toBe(0o750);

    const back = join(dir, "back.bin");
    const bytes = await agent.client.copyOut(guestPath, back);
    expect(sha256(bytes)).toBe(sha256(payload));
    expect(sha256(await readFile(back))).toBe(sha256(payload));
  });

  it("copies bytes in with an explicit mode, to a path with shell metacharacters", async () => {
    const guestPath = join(dir, "we'ird $(name) `x`;.bin");
    const bytes = Uint8Array.from([0, 1, 2, 255, 10, 13, 0]);
    await agent.client.copyIn(bytes, guestPath, { mode: 0o600 });
    expect(new Uint8Array(await readFile(guestPath))).toEqual(bytes);
    expect((await stat(guestPath)).mode & 0o777).toBe(0o600);
    expect(new Uint8Array(await agent.client.copyOut(guestPath))).toEqual(bytes);
  });

  it("explains failed copies", async () => {
    const missing = await agent.client.copyOut(join(dir, "missing")).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(GuestCommandError);
    expect((missing as Error).message).toContain("out of the guest");
    expect((missing as GuestCommandError).describe()).toMatch(/No such file/);
    const noDir = await agent.client.copyIn(Buffer.from("x"), "/no/such/dir/file").catch((e: unknown) => e);
    expect(noDir).toBeInstanceOf(GuestCommandError);
    expect((noDir as Error).message).toContain("into the guest at /no/such/dir/file");
    await expect(agent.client.copyOut("relative/path")).rejects.toBeInstanceOf(UsageError);
  });
});

describe("a slow host", () => {
  it("loses no output while the host reads slowly (the agent applies back-pressure)", async () => {
    // 16 KiB at a time, 1 ms apart: far slower than the agent writes, so its port write()s
    // hit EAGAIN and it must stop reading the command's pipes rather than drop bytes.
    const slowAgent = await startAgent({
      readable: (stdout) =>
        stdout.pipe(
          new Transform({
            highWaterMark: 16 * 1024,
            transform(chunk: Buffer, _encoding, done) {
              setTimeout(() => done(null, chunk), 1);
            },
          }),
        ),
    });
    try {
      const size = 4 * 1024 * 1024;
      const [big, small] = await Promise.all([
        slowAgent.client.exec(["head", "-c", String(size), payloadPath]),
        slowAgent.client.exec("echo still-served"),
      ]);
      expect(sha256(big.stdoutBytes)).toBe(sha256(payload.subarray(0, size)));
      expect(small.stdout).toBe("still-served\n");
    } finally {
      await slowAgent.stop();
    }
  });
});

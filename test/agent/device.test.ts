/**
 * --device mode over a tty. In a guest the agent opens a virtio port; here it opens its
 * controlling terminal, a pty, which also checks that it puts a tty into raw mode (otherwise
 * echo, CR/LF translation and ^C/^S handling would corrupt binary frames).
 */
import { describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Duplex, Writable } from "node:stream";
import { spawn } from "node-pty";
import { AgentClient, buildAgent } from "../../lib/agent/index.js";

describe("the agent on a tty device", () => {
  it("runs commands with binary input and output through a raw pty", async () => {
    const pty = spawn(await buildAgent(), ["--device", "/dev/tty"], { encoding: null, cols: 80, rows: 24 });
    const fromAgent = new PassThrough();
    pty.onData((data) => fromAgent.write(data));
    pty.onExit(() => fromAgent.end());
    const toAgent = new Writable({
      write(chunk: Buffer, _encoding, done) {
        pty.write(chunk);
        done();
      },
    });
    const client = new AgentClient(Duplex.from({ readable: fromAgent, writable: toAgent }));
    try {
      const hello = await client.waitReady({ timeoutMs: 10_000 });
      expect(hello.kernelRelease.length).toBeGreaterThan(0);
      // Bytes a cooked tty would mangle: ^C, ^D, ^S, ^Q, CR, LF, DEL, NUL.
      const special = Uint8Array.from([3, 4, 19, 17, 13, 10, 127, 0, 255]);
      const echoed = await client.exec(["cat"], { input: special });
      expect([...echoed.stdoutBytes]).toEqual([...special]);
      const data = randomBytes(1 << 20);
      const digest = await client.exec(["sha256sum"], { input: data });
      expect(digest.stdout.split(" ")[0]).toBe(createHash("sha256").update(data).digest("hex"));
      const out = await client.exec(["head", "-c", String(1 << 20), "/dev/urandom"]);
      expect(out.stdoutBytes.length).toBe(1 << 20);
    } finally {
      client.close();
      pty.kill("SIGKILL");
    }
  });
});

/**
 * `kbook boot --shell` in a real pty: the user's terminal becomes the guest's serial console.
 */
import { describe, expect, it } from "vitest";
import { spawn } from "node-pty";
import { resolve } from "node:path";
import { testImage } from "../support/images.js";

function runInPty(args: string[]) {
  const term = spawn("node", [resolve("dist/lib/cli/main.js"), ...args], { cols: 100, rows: 30, env: process.env as Record<string, string> });
  let screen = "";
  const exited = new Promise<number>((ok) => term.onExit(({ exitCode }) => ok(exitCode)));
  term.onData((d) => (screen += d));
  const waitFor = async (pattern: RegExp, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!pattern.test(screen)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${screen.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { term, exited, waitFor, screen: () => screen };
}

describe("kbook boot --shell", () => {
  it("gives a root shell on the serial console and returns when the guest powers off", async () => {
    const image = await testImage("busybox");
    const { term, exited, waitFor, screen } = runInPty(["boot", "--image", image.dir, "--shell"]);
    await waitFor(/\/ # /);
    term.write("echo $((6*7)) $(cat /proc/sys/kernel/hostname)\r");
    await waitFor(/42 kbook/);
    term.write("exit\r");
    expect(await exited).toBe(0);
    expect(screen()).toMatch(/the guest powered off/);
  });

  it("detaches with Ctrl-] and stops the VM", async () => {
    const image = await testImage("busybox");
    const { term, exited, waitFor, screen } = runInPty(["boot", "--image", image.dir, "--shell"]);
    await waitFor(/\/ # /);
    term.write("\x1d");
    expect(await exited).toBe(0);
    expect(screen()).toMatch(/detached; the VM was stopped/);
  });
});

describe("kbook boot --shell on the Debian guest", () => {
  it("says how to leave, and `poweroff` at the prompt ends the VM", async () => {
    const image = await testImage("debian");
    const { term, exited, waitFor, screen } = runInPty(["boot", "--image", image.dir, "--shell"]);
    await waitFor(/'poweroff' or 'exit' ends the VM/, 120_000);
    await waitFor(/# $/m, 60_000);
    term.write("poweroff\r");
    expect(await exited).toBe(0);
    expect(screen()).toMatch(/the guest powered off/);
  });
});

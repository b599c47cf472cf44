/**
 * recordPerf through the Guest interface. The first suite boots the Debian guest (the article's
 * `perf record -a -g -F … dd …` inside QEMU); the second runs the same code against a Guest
 * backed by the host's processes and files, so the guest path (streaming perf script output
 * through exec's onStdout, copyOut, cleanup) is exercised for real before the VM lands.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, execaSync } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordPerf, type Profile } from "../../lib/perf/index.js";
import type { Guest, GuestExecOptions, GuestExecResult } from "../../lib/vm/guest.js";
import { bootVm } from "../../lib/vm/index.js";

describe.skipIf(!existsSync("lib/vm/index.ts"))("perf record in the Debian guest", () => {
  let vm: Awaited<ReturnType<typeof bootVm>> | undefined;
  beforeAll(async () => {
    vm = await bootVm({ image: "debian" });
  }, 600_000);
  afterAll(async () => {
    await vm?.shutdown();
  });

  it("profiles the article's dd and brings the stacks back", async () => {
    const profile = await recordPerf(vm!, {
      command: ["dd", "if=/dev/zero", "of=/tmp/test.dat", "bs=1024K", "count=100"],
      frequency: 999,
      allCpus: true,
      callGraph: true,
    });
    expect(profile.samples).toBeGreaterThan(10);
    expect(profile.info.source).toMatch(/^guest: perf record -F 999 -a -g -- dd/);
    expect(profile.folded()).toMatch(/^dd;.*;/m);
    // Kernel frames resolve in the guest (nokaslr, kptr_restrict=0): dd writes through the VFS.
    expect(profile.folded()).toMatch(/vfs_write|ksys_write|__x64_sys_write/);
    expect(profile.svg()).toContain("<svg");
    const display = profile[Symbol.for("Jupyter.display")]();
    expect(display["image/svg+xml"]).toContain("<svg");
  }, 300_000);

  it("samples the idle guest for a duration", async () => {
    const profile = await recordPerf(vm!, { duration: 2, frequency: 199 });
    expect(profile.samples).toBeGreaterThan(0);
  }, 300_000);
});

/** A Guest whose "guest" is this machine: real processes and files, no VM. */
class HostGuest implements Guest {
  readonly stoppedReason = null;
  readonly info = { kernelRelease: "host", recipe: "host", imageDir: "/", kernelPath: "/", nokaslr: false };
  async exec(command: readonly string[] | string, options: GuestExecOptions = {}): Promise<GuestExecResult> {
    const argv = typeof command === "string" ? ["/bin/sh", "-c", command] : [...command];
    const started = Date.now();
    const child = execa(argv[0]!, argv.slice(1), { reject: false, stdin: "ignore", encoding: "buffer", buffer: { stdout: !options.onStdout, stderr: true } });
    const onAbort = () => child.kill("SIGINT");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.onStdout) for await (const chunk of child.stdout!) options.onStdout(chunk as Uint8Array);
    const result = await child;
    options.signal?.removeEventListener("abort", onAbort);
    const stdoutBytes = result.stdout instanceof Uint8Array ? result.stdout : new Uint8Array();
    return {
      argv,
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      stdout: Buffer.from(stdoutBytes).toString("utf8"),
      stderr: Buffer.from(result.stderr as Uint8Array).toString("utf8"),
      stdoutBytes,
      durationMs: Date.now() - started,
      timedOut: false,
      interrupted: Boolean(options.signal?.aborted),
    };
  }
  async copyIn(source: string | Uint8Array, guestPath: string): Promise<void> {
    await writeFile(guestPath, typeof source === "string" ? await readFile(source) : source);
  }
  async copyOut(guestPath: string, hostPath?: string): Promise<Uint8Array> {
    const bytes = await readFile(guestPath);
    if (hostPath) await writeFile(hostPath, bytes);
    return bytes;
  }
}

function perfWorks(): boolean {
  try {
    return execaSync("perf", ["--version"], { reject: false }).exitCode === 0 && process.getuid?.() === 0;
  } catch {
    return false;
  }
}

describe.skipIf(!perfWorks())("recordPerf through the Guest interface (host-backed guest)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kbook-guest-perf-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let profile: Profile;

  it("records, streams perf script back, collapses, and removes its data file", async () => {
    const before = new Set((await execa("ls", ["/tmp"])).stdout.split("\n").filter((f) => f.startsWith("kbook-perf-")));
    profile = await recordPerf(new HostGuest(), {
      command: "dd if=/dev/zero of=/dev/null bs=1M count=1500",
      frequency: 999,
      keepData: join(dir, "kept.data"),
    });
    expect(profile.samples).toBeGreaterThan(10);
    expect(profile.info.source).toContain("/bin/sh -c 'dd if=/dev/zero");
    expect(profile.folded()).toMatch(/^(sh|dd);/m);
    expect(existsSync(join(dir, "kept.data"))).toBe(true);
    const after = (await execa("ls", ["/tmp"])).stdout.split("\n").filter((f) => f.startsWith("kbook-perf-") && f.endsWith(".data"));
    expect(after.filter((f) => !before.has(f))).toEqual([]);
  }, 60_000);

  it("reports a failing command as a warning, not an error", async () => {
    const failing = await recordPerf(new HostGuest(), { command: "dd if=/dev/zero of=/dev/null bs=1M count=300; exit 3", frequency: 999 });
    expect(failing.info.warnings?.join(" ")).toMatch(/exited with status 3/);
  }, 60_000);
});

/**
 * recordPerf through the Guest interface. The first suite boots the Debian guest (the article's
 * `perf record -a -g -F … dd …` inside QEMU); the second runs the same code against the host
 * as a Guest (test/support/host-guest.ts), so the guest path (streaming perf script output
 * through exec's onStdout, copyOut, cleanup) is exercised for real in seconds.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordPerf, type Profile } from "../../lib/perf/index.js";
import { bootVm } from "../../lib/boot/index.js";
import { HostGuest, hostHasPerf } from "../support/host-guest.js";

describe("perf record in the Debian guest", () => {
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

describe.skipIf(!hostHasPerf())("recordPerf through the Guest interface (host-backed guest)", () => {
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

/**
 * `kbook doctor` on this machine, and what it does when tools are missing (simulated with a PATH
 * that holds only node, run as an unprivileged user so apt-get is never attempted).
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtemp, symlink, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const cli = resolve("dist/lib/cli/main.js");

describe("kbook doctor", () => {
  it("reports every dependency with its version, the accelerator decision and the perf sysctls", async () => {
    const r = await execa("node", [cli, "doctor"]);
    expect(r.exitCode).toBe(0);
    for (const name of ["qemu-system-x86", "qemu-img", "mke2fs", "mmdebstrap", "busybox-static", "gdb", "perf", "Jupyter"]) {
      expect(r.stdout).toMatch(new RegExp(`^  found  \\s+${name.replace(/[-+]/g, "\\$&")}\\s+\\S`, "m"));
    }
    expect(r.stdout).toMatch(/^Accelerator: (KVM|TCG) — .*(vmx|svm|kvm)/m);
    expect(r.stdout).toMatch(/kernel\.perf_event_paranoid = -?\d/);
    expect(r.stdout).toMatch(/kernel\.kptr_restrict = \d/);
  });

  it("without root, prints the exact apt-get line for what is missing and fails", async () => {
    const bin = await mkdtemp(join(tmpdir(), "kbook-doctor-path-"));
    await chmod(bin, 0o755);
    await symlink(process.execPath, join(bin, "node"));
    const r = await execa("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", join(bin, "node"), cli, "doctor", "--install"], {
      env: { PATH: bin, HOME: "/tmp" },
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^  MISSING  qemu-system-x86 .*apt: qemu-system-x86/m);
    expect(r.stdout).toMatch(/sudo apt-get update && sudo apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils e2fsprogs mmdebstrap busybox-static/);
    expect(r.stderr).not.toMatch(/\s+at /);
  });
});

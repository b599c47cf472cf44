/**
 * The installer's plumbing over a real pty (node-pty), against a shell script that plays the
 * ISO console (testdata/fake-iso-console.sh, reconstructed prompts). The full QEMU route needs
 * the Alpine ISO from a mirror: see alpine-real.test.ts.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { driveSetupAlpine } from "../../../lib/images/alpine/installer.js";
import { installerQemuArgs } from "../../../lib/images/alpine/installer.js";
import { finishCommand, finishScript } from "../../../lib/images/alpine/installer-finish.js";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const fake = join(import.meta.dirname, "testdata", "fake-iso-console.sh");
const answers = {
  hostname: "kbook",
  repositories: ["https://mirror.test/alpine/v3.21/main"],
  disk: "sda",
  rootPassword: "kbook",
  finishCommand: "sh /media/kbook/finish.sh",
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("driveSetupAlpine over a pty", () => {
  it("logs in, runs setup-alpine with the answer file, answers prompts, finishes and powers off", async () => {
    const work = mkdtempSync(join(tmpdir(), "kbook-fakeiso-"));
    const answered: string[] = [];
    const result = await driveSetupAlpine({ command: "/bin/sh", args: [fake, "ok", work], answers, quietMs: 3000, timeoutMs: 30_000, onAnswer: (p) => answered.push(p) });
    expect(answered).toEqual(["login", "shell", "timezone", "disk", "disk-mode", "finish"]);
    expect(result.answered.at(-1)).toEqual({ prompt: "done", answer: "poweroff" });
    // What the console actually received through the pty.
    expect(readFileSync(join(work, "received"), "utf8").trim().split("\n")).toEqual([
      "login=root",
      "DISKOPTS=-s 256 -m sys /dev/sda",
      "timezone=UTC",
      "disk=sda",
      "mode=sys",
      "finish",
      "poweroff",
    ]);
  });

  it("stops on an unknown prompt with the screen text and kills the console", async () => {
    const work = mkdtempSync(join(tmpdir(), "kbook-fakeiso-"));
    const started = Date.now();
    const error = await driveSetupAlpine({ command: "/bin/sh", args: [fake, "unknown", work], answers, quietMs: 800, timeoutMs: 30_000 }).catch((e) => e);
    expect(error.message).toBe('setup-alpine asked a question kbook does not know how to answer: "No disks available. Try boot media /media/cdrom? (y/n) [n]".');
    expect(error.detail).toContain("Restarting hostname");
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number(readFileSync(join(work, "pid"), "utf8"));
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  });

  it("reports a console that ends before the install is done, and an abort", async () => {
    const early = await driveSetupAlpine({ command: "/bin/sh", args: ["-c", "printf 'localhost login: '; read u; exit 7"], answers, quietMs: 3000 }).catch((e) => e);
    expect(early.message).toMatch(/console ended \(exit 7\) before the install finished \(at: login\)/);
    const controller = new AbortController();
    const pending = driveSetupAlpine({ command: "/bin/sh", args: ["-c", "sleep 30"], answers, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expect(pending).rejects.toThrow(/interrupted/);
  });
});

describe("installer pieces", () => {
  it("QEMU gets the ISO, an IDE qcow2 disk (sda) and the 9p share", () => {
    const args = installerQemuArgs({ iso: "/c/alpine-virt.iso", disk: "/w/disk.qcow2", share: "/w/.share" });
    expect(args.join(" ")).toContain("-cdrom /c/alpine-virt.iso");
    expect(args.join(" ")).toContain("-drive file=/w/disk.qcow2,format=qcow2,if=ide");
    expect(args.join(" ")).toContain("-virtfs local,path=/w/.share,mount_tag=kbook,security_model=none,id=kbook");
    expect(args).toContain("-nographic");
    expect(args).toContain("-no-reboot");
  });

  it("the finishing script and command are valid sh", () => {
    const dir = mkdtempSync(join(tmpdir(), "kbook-finish-"));
    writeFileSync(join(dir, "finish.sh"), finishScript(["perf", "bpftrace", "strace"]));
    execFileSync("sh", ["-n", join(dir, "finish.sh")]);
    execFileSync("sh", ["-n", "-c", finishCommand()]);
    expect(finishScript(["perf"])).toContain("mount /dev/sda3");
  });
});

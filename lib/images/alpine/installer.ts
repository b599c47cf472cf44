/**
 * The `iso` method, the article's route without a human: boot the Alpine ISO in QEMU with an
 * empty qcow2 disk, and drive setup-alpine over the serial console through a real pty
 * (node-pty), as a person at the keyboard would. The disk it installs boots with
 * root=/dev/sda3. The prompt logic lives in installer-driver.ts; this file is the plumbing.
 */
import { spawn } from "node-pty";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { KbookError } from "../../errors/index.js";
import { runTool } from "../../system/run.js";
import { installGuestFiles } from "../guest-files.js";
import { extractVmlinux } from "../kernel.js";
import type { BuildContext, ImageLayout } from "../recipe.js";
import { downloadReleaseFile } from "./release-download.js";
import { SetupAlpineDriver, type InstallerAnswers } from "./installer-driver.js";
import { finishCommand, ISO_DISK_APPEND, prepareFinishShare, SHARE_TAG } from "./installer-finish.js";
import { installedVersions, requireRoot } from "./minirootfs.js";
import { repositoryUrl } from "./mirror.js";
import type { AlpineRecipe } from "./options.js";

export interface ConsoleRunOptions {
  /** Program and arguments whose console is driven (QEMU; a setup-alpine emulation in tests). */
  command: string;
  args: string[];
  answers: InstallerAnswers;
  /** Console silence after which a question on screen counts as unknown (default 60 s). */
  quietMs?: number;
  /** Give up after this long (default 60 min: a TCG install downloads and unpacks packages). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Every console chunk, raw (for logs and progress). */
  onOutput?: (chunk: string) => void;
  /** Each prompt answered. */
  onAnswer?: (prompt: string) => void;
}

/**
 * Runs `command` on a pty and lets the driver answer its console until the install is done and
 * the program exits. Throws KbookError with the screen text when the driver fails (unknown
 * prompt, failed step), on timeout, or when the program exits early; the program is killed then.
 */
export function driveSetupAlpine(options: ConsoleRunOptions): Promise<{ answered: readonly { prompt: string; answer: string }[] }> {
  const driver = new SetupAlpineDriver(options.answers);
  const quietMs = options.quietMs ?? 60_000;
  const term = spawn(options.command, options.args, { name: "vt100", cols: 160, rows: 50, env: { ...process.env, TERM: "vt100" } as Record<string, string> });
  return new Promise((resolve, reject) => {
    let settled = false;
    let done = false;
    let quietTimer: NodeJS.Timeout | undefined;
    const overall = setTimeout(() => fail(new KbookError(`The Alpine installer did not finish within ${Math.round((options.timeoutMs ?? 3_600_000) / 60_000)} min.`, { detail: driver.screen() })), options.timeoutMs ?? 3_600_000);

    const cleanup = () => {
      clearTimeout(overall);
      if (quietTimer) clearTimeout(quietTimer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    const kill = () => {
      try {
        term.kill("SIGTERM");
      } catch {
        /* already gone */
      }
      setTimeout(() => {
        try {
          term.kill("SIGKILL");
        } catch {
          /* already gone */
        }
      }, 2000).unref();
    };
    const fail = (error: KbookError) => {
      if (settled) return;
      settled = true;
      cleanup();
      kill();
      reject(error);
    };
    const onAbort = () => fail(new KbookError("The Alpine installer was interrupted.", { detail: driver.screen() }));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) return onAbort();

    const armQuiet = () => {
      if (quietTimer) clearTimeout(quietTimer);
      quietTimer = setTimeout(() => {
        const action = driver.idle();
        if (action?.kind === "fail") fail(new KbookError(action.message, { detail: action.screen, hint: "kbook's installer driver needs an answer for this prompt; use the default minirootfs method meanwhile." }));
        else armQuiet();
      }, quietMs);
    };
    armQuiet();

    term.onData((chunk) => {
      if (settled) return;
      options.onOutput?.(chunk);
      armQuiet();
      for (const action of driver.feed(chunk)) {
        if (action.kind === "send") {
          options.onAnswer?.(action.prompt);
          term.write(action.text);
        } else if (action.kind === "fail") {
          return fail(new KbookError(action.message, { detail: action.screen }));
        } else {
          done = true;
          term.write("poweroff\r");
        }
      }
    });
    term.onExit(({ exitCode, signal }) => {
      if (settled) return;
      if (done) {
        settled = true;
        cleanup();
        return resolve({ answered: driver.answered });
      }
      fail(new KbookError(`The Alpine installer's console ended (exit ${exitCode}${signal ? `, signal ${signal}` : ""}) before the install finished (at: ${driver.state}).`, { detail: driver.screen() }));
    });
  });
}

/** QEMU arguments for the install: ISO as CD-ROM, empty disk as IDE sda, kbook's share over 9p. */
export function installerQemuArgs(options: { iso: string; disk: string; share: string; memoryMb?: number }): string[] {
  return [
    "-accel", "tcg,thread=multi",
    "-m", String(options.memoryMb ?? 1024),
    "-smp", "2",
    "-nographic",
    "-no-reboot",
    "-boot", "d",
    "-cdrom", options.iso,
    "-drive", `file=${options.disk},format=qcow2,if=ide`,
    "-virtfs", `local,path=${options.share},mount_tag=${SHARE_TAG},security_model=none,id=${SHARE_TAG}`,
    // User-mode networking: setup-alpine and apk fetch packages from the mirror through it.
    "-netdev", "user,id=net0",
    "-device", "virtio-net-pci,netdev=net0",
  ];
}

export async function buildAlpineFromIso(recipe: AlpineRecipe, ctx: BuildContext): Promise<ImageLayout> {
  requireRoot("alpine image with the iso method");
  const { progress, signal } = ctx;
  progress.report("resolve", `Alpine ${recipe.release} ${recipe.isoFlavor} ISO on ${recipe.mirror}`);
  const { release, ...iso } = await downloadReleaseFile(recipe, `alpine-${recipe.isoFlavor}`, ctx);

  const share = join(ctx.workDir, ".share");
  const guestRoot = await prepareFinishShare(
    share,
    { hostname: recipe.hostname, mirror: recipe.mirror, branch: release.branch, rootDevice: "/dev/sda3" },
    ["perf", "bpftrace", ...recipe.packages],
  );
  await installGuestFiles(guestRoot);
  const disk = join(ctx.workDir, "disk.qcow2");
  await runTool("qemu-img", ["create", "-q", "-f", "qcow2", disk, recipe.diskSize], { stage: "qemu-img", signal });

  progress.report("install", "booting the ISO and running setup-alpine");
  await driveSetupAlpine({
    command: "qemu-system-x86_64",
    args: installerQemuArgs({ iso: iso.path, disk, share }),
    answers: {
      hostname: recipe.hostname,
      repositories: [repositoryUrl(recipe.mirror, release.branch, "main"), repositoryUrl(recipe.mirror, release.branch, "community")],
      disk: "sda",
      rootPassword: "kbook",
      finishCommand: finishCommand(),
    },
    signal,
    onAnswer: (prompt) => progress.report("install", `answered ${prompt}`),
  });

  const out = join(share, "out");
  await copyFile(join(out, "vmlinuz"), join(ctx.workDir, "vmlinuz"));
  await copyFile(join(out, "initrd.img"), join(ctx.workDir, "initrd.img"));
  const hasVmlinux = await extractVmlinux(join(ctx.workDir, "vmlinuz"), join(ctx.workDir, "vmlinux"));
  const kernelRelease = (await readFile(join(out, "kernel-release"), "utf8")).trim().split("\n")[0]!;
  const installed = await readFile(join(out, "installed"), "utf8");
  const versions = {
    alpine: (await readFile(join(out, "alpine-release"), "utf8")).trim(),
    kernel: kernelRelease,
    ...installedVersions(installed, ["linux-virt", "linux-lts", "perf", "bpftrace", "busybox", "openrc", "musl"]),
  };
  await rm(share, { recursive: true, force: true });
  await mkdir(ctx.workDir, { recursive: true });
  return {
    kernel: "vmlinuz",
    vmlinux: hasVmlinux ? "vmlinux" : undefined,
    initrd: "initrd.img",
    disk: { file: "disk.qcow2", format: "qcow2", interface: "ide" },
    append: ISO_DISK_APPEND,
    kernelRelease,
    versions,
  };
}

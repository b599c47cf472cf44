/**
 * The default Alpine route, no installer: the release's minirootfs tarball (sha256-verified),
 * packages installed with Alpine's own apk.static (signature-verified), the configuration
 * setup-alpine would write, and a raw ext4 disk from `mke2fs -d` (no loop devices, no mounts),
 * which the guest sees as /dev/sda.
 */
import { makeRootDisk } from "../disk.js";
import { copyFile, mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { KbookError } from "../../errors/index.js";
import { runTool } from "../../system/run.js";
import type { BuildContext, ImageLayout } from "../recipe.js";
import { extractVmlinux, kernelReleaseIn } from "../kernel.js";
import { installGuestFiles } from "../guest-files.js";
import { parseApkIndex } from "./apk-format.js";
import { fetchApkStatic } from "./apk-static.js";
import { applyAlpineConfig } from "./config.js";
import { downloadReleaseFile } from "./release-download.js";
import { exportKeys, loadTrustedKeys } from "./keys.js";
import { repositoryUrl } from "./mirror.js";
import { alpinePackageList, type AlpineRecipe } from "./options.js";

/** Kernel command line words an Alpine image on a raw /dev/sda needs (Alpine's initramfs reads modules=). */
export const ALPINE_DISK_APPEND = ["root=/dev/sda", "rootfstype=ext4", "modules=ata_piix,sd-mod,ext4", "rw"];

/** "(12/80) Installing perf (6.12.1-r0)" → position in apk's install plan. */
export function parseApkProgress(line: string): { index: number; total: number; action: string; name: string } | null {
  const m = /^\((\d+)\/(\d+)\)\s+(Installing|Upgrading|Purging|Replacing)\s+(\S+)/.exec(line.trim());
  return m ? { index: Number(m[1]), total: Number(m[2]), action: m[3]!, name: m[4]! } : null;
}

/** Versions of the packages worth naming in the manifest, from apk's installed database. */
export function installedVersions(installedDb: string, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const record of parseApkIndex(installedDb)) if (names.includes(record.P!) && record.V) out[record.P!] = record.V;
  return out;
}

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new KbookError(`Building the ${what} needs root (apk.static, tar and mke2fs keep file ownership and device nodes only as root).`, {
      hint: "Run it with sudo, or use the 'busybox' recipe, which builds without root.",
    });
  }
}

/**
 * Device nodes apk's package scripts expect: without a /dev mount they would create regular
 * files named /dev/null. mknod needs no mount; the guest's devtmpfs hides these at boot.
 */
async function makeDeviceNodes(rootfs: string, signal?: AbortSignal): Promise<void> {
  await mkdir(join(rootfs, "dev"), { recursive: true });
  for (const [name, major, minor] of [["null", 1, 3], ["zero", 1, 5], ["random", 1, 8], ["urandom", 1, 9]] as const) {
    await rm(join(rootfs, "dev", name), { force: true });
    await runTool("mknod", ["-m", "666", join(rootfs, "dev", name), "c", String(major), String(minor)], { stage: "mknod", signal });
  }
}

export async function buildAlpineFromMinirootfs(recipe: AlpineRecipe, ctx: BuildContext): Promise<ImageLayout> {
  requireRoot("alpine image");
  const { progress, signal } = ctx;
  const scratch = join(ctx.workDir, ".build");
  const rootfs = join(ctx.workDir, "rootfs");
  await mkdir(scratch, { recursive: true });

  const keys = await loadTrustedKeys(recipe.keysDir);
  progress.report("resolve", `Alpine ${recipe.release} (${recipe.arch}) on ${recipe.mirror}`);
  const { release, ...tarball } = await downloadReleaseFile(recipe, "alpine-minirootfs", ctx);
  progress.report("download", `${release.file} ${tarball.cached ? "(cached)" : "verified"} sha256 ${release.sha256.slice(0, 16)}…`);

  const apk = await fetchApkStatic({ mirror: recipe.mirror, branch: release.branch, arch: recipe.arch, keys, cacheDir: ctx.cacheDir, destDir: scratch, progress, signal });
  progress.report("apk-tools", `apk.static ${apk.version}, signed by ${apk.signer}`);

  progress.report("rootfs", `unpacking ${release.file}`);
  await mkdir(rootfs, { recursive: true });
  await runTool("tar", ["-xzpf", tarball.path, "-C", rootfs, "--numeric-owner"], { stage: "unpack minirootfs", signal });
  await makeDeviceNodes(rootfs, signal);

  const keysDir = join(scratch, "keys");
  await exportKeys(keys, keysDir);
  const packages = alpinePackageList(recipe);
  progress.report("apk", `installing ${packages.join(" ")}`);
  await runTool(
    apk.path,
    [
      "--root", rootfs,
      "--initdb",
      "--keys-dir", keysDir,
      "--repository", repositoryUrl(recipe.mirror, release.branch, "main"),
      "--repository", repositoryUrl(recipe.mirror, release.branch, "community"),
      "--arch", recipe.arch,
      "--no-cache",
      "--no-progress",
      "add",
      ...packages,
    ],
    {
      stage: "apk add",
      signal,
      onStdoutLine: (line) => {
        const step = parseApkProgress(line);
        if (step) progress.report("apk", `${step.action.toLowerCase()} ${step.name}`, { fraction: step.index / step.total });
      },
      hint: `Check that ${recipe.mirror}/${release.branch} has every package: ${packages.join(", ")}.`,
    },
  );

  progress.report("configure", "hostname, fstab, serial getty, OpenRC runlevels, kbook agent");
  const { skippedServices } = await applyAlpineConfig(rootfs, { hostname: recipe.hostname, mirror: recipe.mirror, branch: release.branch, rootDevice: "/dev/sda" });
  if (skippedServices.length) progress.report("configure", `no init script for ${skippedServices.join(", ")}: not enabled`);
  await installGuestFiles(rootfs);

  progress.report("kernel", `linux-${recipe.kernel} and its initramfs`);
  const kernelRelease = await kernelReleaseIn(rootfs);
  const boot = join(rootfs, "boot");
  const initramfs = join(boot, `initramfs-${recipe.kernel}`);
  if (!(await stat(initramfs).catch(() => null))) {
    // apk's mkinitfs trigger normally writes it; run mkinitfs ourselves if the trigger could not.
    await runTool("chroot", [rootfs, "/sbin/mkinitfs", "-o", `/boot/initramfs-${recipe.kernel}`, kernelRelease], { stage: "mkinitfs", signal });
  }
  await copyFile(join(boot, `vmlinuz-${recipe.kernel}`), join(ctx.workDir, "vmlinuz"));
  await copyFile(initramfs, join(ctx.workDir, "initrd.img"));
  const hasVmlinux = await extractVmlinux(join(ctx.workDir, "vmlinuz"), join(ctx.workDir, "vmlinux"));

  const installed = await readFile(join(rootfs, "lib/apk/db/installed"), "utf8");
  const alpineRelease = (await readFile(join(rootfs, "etc/alpine-release"), "utf8").catch(() => release.version)).trim();
  const versions = { alpine: alpineRelease, kernel: kernelRelease, "apk-tools-static": apk.version, ...installedVersions(installed, [`linux-${recipe.kernel}`, "perf", "bpftrace", "busybox", "openrc", "musl"]) };

  await rm(scratch, { recursive: true, force: true });
  progress.report("mke2fs", `ext4 root disk (${recipe.diskSize})`);
  const disk = join(ctx.workDir, "disk.img");
  await makeRootDisk(rootfs, disk, recipe.diskSize, { signal, sizeHint: "A larger diskSize may be needed for extra packages." });

  return {
    kernel: "vmlinuz",
    vmlinux: hasVmlinux ? "vmlinux" : undefined,
    initrd: "initrd.img",
    disk: { file: "disk.img", format: "raw", interface: "ide" },
    append: ALPINE_DISK_APPEND,
    kernelRelease,
    versions,
  };
}

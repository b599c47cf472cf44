/**
 * The default image: Debian bookworm built with mmdebstrap, with the kernel, perf and bpftrace,
 * on a raw unpartitioned ext4 disk made by `mke2fs -d` (no loop devices, no mounts), which the
 * guest sees as /dev/sda.
 */
import { copyFile, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ImageLayout, RecipeKind } from "./recipe.js";
import { UsageError, KbookError } from "../errors/index.js";
import { runTool } from "../system/run.js";
import { configuredMirror, dpkgVersions } from "./apt-sources.js";
import { extractVmlinux, kernelReleaseIn } from "./kernel.js";
import { buildInitramfs, HOST_BUSYBOX } from "./initramfs.js";
import { AGENT_MODULES, SHARE_MODULES, indexModules, resolveModules } from "./kmod.js";
import { makeRootDisk } from "./disk.js";
import { assetPath } from "../paths.js";

export interface DebianRecipe {
  kind: "debian";
  suite: string;
  mirror: string;
  /** Packages beyond the base set (kernel, perf, bpftrace and what kbook's init needs). */
  packages: string[];
  /** Disk size for mke2fs, e.g. "2G" (sparse: unused space costs nothing). */
  diskSize: string;
}

/** What every Debian guest has: a kernel, perf, bpftrace, and the tools kbook-init calls. */
export const DEBIAN_BASE_PACKAGES = ["linux-image-amd64", "linux-perf", "bpftrace", "kmod", "procps", "iproute2", "util-linux"];

/** Modules the small initrd loads to reach an ext4 root on IDE (/dev/sda). */
export const ROOT_DISK_MODULES = ["ata_piix", "sd_mod", "ext4"];
/**
 * ext4 asks the crypto API for "crc32c" at mount time (a soft dependency, not in `depends=`),
 * so the generic implementation is loaded up front; crc32c-intel needs SSE4.2, which TCG's
 * default CPU model lacks.
 */
export const ROOT_DISK_SOFT_MODULES = ["crc32c_generic"];

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

export const debianRecipe: RecipeKind<DebianRecipe> = {
  kind: "debian",
  summary: "Debian (bookworm) with linux-image-amd64, linux-perf and bpftrace, built with mmdebstrap",
  normalize(options) {
    const packages = [...new Set((options.packages as string[] | undefined) ?? [])].sort();
    for (const p of packages) {
      if (!PACKAGE_NAME.test(p)) throw new UsageError(`'${p}' is not a Debian package name.`, { hint: "Package names are lower case letters, digits and + - ." });
    }
    const suite = typeof options.suite === "string" ? options.suite : "bookworm";
    if (!/^[a-z]+$/.test(suite)) throw new UsageError(`'${suite}' is not a Debian suite name.`);
    const diskSize = typeof options.diskSize === "string" ? options.diskSize : "2G";
    if (!/^\d+[MG]$/.test(diskSize)) throw new UsageError(`Disk size '${diskSize}' should look like 2G or 1500M.`);
    const mirror = typeof options.mirror === "string" ? options.mirror.replace(/\/+$/, "") : "";
    if (mirror && !/^(https?|file):\/\//.test(mirror)) throw new UsageError(`Mirror '${mirror}' is not an http(s):// or file:// URL.`);
    return { kind: "debian", suite, mirror, packages, diskSize };
  },
  async build(recipe, ctx): Promise<ImageLayout> {
    if (process.getuid?.() !== 0) {
      throw new KbookError("Building the debian image needs root (mmdebstrap and mke2fs keep file ownership only as root).", {
        hint: "Run it with sudo, or use the 'busybox' recipe, which builds without root.",
      });
    }
    const rootfs = join(ctx.workDir, "rootfs");
    const mirror = recipe.mirror || (await configuredMirror(recipe.suite));
    ctx.progress.report("mmdebstrap", `${recipe.suite} from ${mirror}`);
    await runTool(
      "mmdebstrap",
      [
        "--variant=minbase",
        "--mode=root",
        `--include=${[...DEBIAN_BASE_PACKAGES, ...recipe.packages].join(",")}`,
        // Apt's own caches and docs are dead weight in a guest image.
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        recipe.suite,
        rootfs,
        mirror,
      ],
      {
        stage: "mmdebstrap",
        signal: ctx.signal,
        onStderrLine: (line) => {
          if (/^I: /.test(line)) ctx.progress.report("mmdebstrap", line.slice(3));
        },
        hint: `Check that ${mirror} serves ${recipe.suite} and that every extra package exists there.`,
      },
    );

    ctx.progress.report("kernel", "extracting kernel and building the initrd");
    const release = await kernelReleaseIn(rootfs);
    const bootDir = join(rootfs, "boot");
    await copyFile(join(bootDir, `vmlinuz-${release}`), join(ctx.workDir, "vmlinuz"));
    const hasVmlinux = await extractVmlinux(join(ctx.workDir, "vmlinuz"), join(ctx.workDir, "vmlinux"));
    // Debian's generic initramfs is unused (kbook's initrd below boots in a fraction of the time).
    for (const name of await readdir(bootDir)) if (name.startsWith("initrd.img")) await rm(join(bootDir, name));

    // The agent's port and (on demand) 9p are loaded from the initrd too: from RAM, not the emulated disk.
    const modules = await resolveModules(await indexModules(join(rootfs, "lib", "modules", release)), [...ROOT_DISK_MODULES, ...AGENT_MODULES], [
      ...ROOT_DISK_SOFT_MODULES,
      ...SHARE_MODULES,
    ]);
    const initrd = await buildInitramfs({ busybox: HOST_BUSYBOX, init: await readFile(assetPath("guest", "initrd-init.sh"), "utf8"), modules });
    await writeFile(join(ctx.workDir, "initrd.img"), initrd);

    await writeFile(join(rootfs, "etc", "hostname"), "kbook\n");
    await writeFile(join(rootfs, "etc", "fstab"), "/dev/sda / ext4 rw,relatime 0 1\n");

    const versions = dpkgVersions(await readFile(join(rootfs, "var", "lib", "dpkg", "status"), "utf8"), [
      `linux-image-${release}`,
      "linux-perf",
      "bpftrace",
    ]);

    ctx.progress.report("mke2fs", `ext4 root disk (${recipe.diskSize})`);
    const disk = join(ctx.workDir, "disk.img");
    await makeRootDisk(rootfs, disk, recipe.diskSize, { signal: ctx.signal, sizeHint: "A larger --disk-size may be needed for extra packages." });

    return {
      kernel: "vmlinuz",
      vmlinux: hasVmlinux ? "vmlinux" : undefined,
      initrd: "initrd.img",
      disk: { file: "disk.img", format: "raw", interface: "ide" },
      append: ["root=/dev/sda", "rootfstype=ext4", "rw", "init=/sbin/kbook-init"],
      kit: "disk-initrd",
      kernelRelease: release,
      versions: { kernel: release, ...versions },
    };
  },
};

/**
 * The `busybox` image: Debian's kernel and Debian's static busybox in an initramfs that is the
 * whole root. No disk, no root privileges, boots to the agent in about two seconds under TCG,
 * which makes it the image for tests and quick experiments. It has no perf or bpftrace.
 */
import { copyFile, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ImageLayout, RecipeKind } from "./recipe.js";
import { UsageError } from "../errors/index.js";
import { runTool } from "../system/run.js";
import { extractVmlinux, fetchDebianPackage, kernelReleaseIn, resolveKernelPackage } from "./kernel.js";
import { buildInitramfs, HOST_BUSYBOX } from "./initramfs.js";
import { AGENT_MODULES, SHARE_MODULES, indexModules, resolveModules } from "./kmod.js";
import { assetPath } from "../paths.js";

export interface BusyboxRecipe {
  kind: "busybox";
  /** Debian kernel package; default: what linux-image-amd64 points at on this machine. */
  kernelPackage: string;
}


export const busyboxRecipe: RecipeKind<BusyboxRecipe> = {
  kind: "busybox",
  summary: "Debian's kernel with a static busybox initramfs: no disk, no root needed, boots in ~2 s",
  normalize(options) {
    const kernelPackage = typeof options.kernelPackage === "string" ? options.kernelPackage : "";
    if (kernelPackage && !/^linux-image-[a-z0-9.+-]+$/.test(kernelPackage)) {
      throw new UsageError(`'${kernelPackage}' is not a Debian kernel package name (linux-image-…).`);
    }
    return { kind: "busybox", kernelPackage };
  },
  async build(recipe, ctx): Promise<ImageLayout> {
    const pkg = recipe.kernelPackage || (await resolveKernelPackage());
    ctx.progress.report("kernel", `downloading ${pkg}`);
    const unpacked = join(ctx.workDir, "kernel-pkg");
    await fetchDebianPackage(pkg, join(ctx.cacheDir, "downloads"), unpacked, ctx.signal);
    const release = await kernelReleaseIn(unpacked);
    await copyFile(join(unpacked, "boot", `vmlinuz-${release}`), join(ctx.workDir, "vmlinuz"));
    const hasVmlinux = await extractVmlinux(join(ctx.workDir, "vmlinuz"), join(ctx.workDir, "vmlinux"));

    ctx.progress.report("initramfs", "busybox, kbook agent and modules");
    const modules = await resolveModules(await indexModules(join(unpacked, "lib", "modules", release)), AGENT_MODULES, SHARE_MODULES);
    const busyboxVersion = /BusyBox v(\S+)/.exec((await runTool(HOST_BUSYBOX, ["--help"], { stage: "busybox" }).catch(() => ({ stdout: "" }))).stdout)?.[1];
    const initramfs = await buildInitramfs({
      busybox: HOST_BUSYBOX,
      init: await readFile(assetPath("guest", "init.sh"), "utf8"),
      modules,
      allApplets: true,
      files: [
        { path: "etc/hostname", type: "file", mode: 0o644, data: "kbook\n" },
        { path: "etc/passwd", type: "file", mode: 0o644, data: "root:x:0:0:root:/root:/bin/sh\n" },
        { path: "etc/group", type: "file", mode: 0o644, data: "root:x:0:\n" },
      ],
    });
    await writeFile(join(ctx.workDir, "initrd.img"), initramfs);
    await rm(unpacked, { recursive: true, force: true });
    return {
      kernel: "vmlinuz",
      vmlinux: hasVmlinux ? "vmlinux" : undefined,
      initrd: "initrd.img",
      append: ["rdinit=/init"],
      kit: "initramfs-root",
      kernelRelease: release,
      versions: { kernel: release, ...(busyboxVersion ? { busybox: busyboxVersion } : {}) },
    };
  },
};

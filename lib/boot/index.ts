/**
 * `bootVm`, the one call a notebook or script makes: it turns names into things — an image name
 * or recipe into a built image (lib/images), a kernel path into a checked kernel — and hands
 * them to the VM layer (lib/vm), which boots what it is given.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { checkKernelFile, planBoot, startVm, type BootableImage, type BootPlan, type OwnKernel, type Vm, type VmOptions } from "../vm/index.js";
import { missingRequirements, parseDotConfig, resolveLinuxBuild, type LinuxBuild } from "../linux/index.js";
import { ProgressReporter } from "../progress/index.js";
import { UsageError } from "../errors/index.js";
import { resolveImage, type ImageRef } from "./image-ref.js";

export type { ImageRef } from "./image-ref.js";

export interface BootOptions extends Omit<VmOptions, "image"> {
  /** "debian" (default), "busybox", a cache key, an image directory, or a recipe object. */
  image?: ImageRef;
  /**
   * A kernel built with `buildLinux()` / `kbook linux build`: the build itself, its directory,
   * or its name ("learn"). It boots on the image's root disk with its symbols, sources and gdb
   * scripts known to `vm.gdb()`.
   */
  linux?: LinuxBuild | string;
}

/** The VM layer's options for a boot: the image resolved (built on first use) and the kernel checked. */
async function vmOptions(options: BootOptions, progress: ProgressReporter): Promise<VmOptions> {
  if (options.kernel && options.linux) throw new UsageError("Pass either kernel (a file) or linux (a kbook build), not both.");
  // A wrong kernel fails now, not after a first image build of several minutes.
  if (options.kernel) await checkKernelFile(resolve(typeof options.kernel === "string" ? options.kernel : options.kernel.path));
  const build = typeof options.linux === "string" ? await resolveLinuxBuild(options.linux) : options.linux;
  const image = await resolveImage(options.image, progress.nested(), options.signal);
  const { linux: _linux, ...rest } = options;
  return { ...rest, image, ...(build ? { kernel: await linuxKernel(build, image, Boolean(options.share)) } : {}) };
}

/**
 * The kernel of a kbook build, checked against what this boot needs before QEMU starts: its
 * vmlinux through PVH when it has the entry, else its bzImage.
 */
async function linuxKernel(build: LinuxBuild, image: BootableImage, share: boolean): Promise<OwnKernel> {
  const config = parseDotConfig(await readFile(build.config, "utf8"));
  const pvh = config.get("PVH") === "y";
  const missing = missingRequirements(config, { disk: Boolean(image.layout.disk), share, vmlinux: false });
  if (missing.length) {
    throw new UsageError(`The kernel ${build.manifest.name}-${build.manifest.key} cannot boot on the ${image.kind} image: its config lacks ${missing.map((m) => `CONFIG_${m.requirement.symbol}=y (${m.requirement.why})`).join("; ")}.`, {
      hint: `Rebuild with ${missing.map((m) => `--set CONFIG_${m.requirement.symbol}=y`).join(" ")} (the learn config has them all).`,
    });
  }
  return {
    path: pvh ? build.vmlinux : build.bzImage,
    vmlinux: build.vmlinux,
    sourceDir: build.sourceDir,
    gdbScriptsDir: build.gdbScriptsDir,
    release: build.manifest.release,
  };
}

/** Boots a VM and waits until its agent answers (unless paused for a debugger). */
export async function bootVm(options: BootOptions = {}): Promise<Vm> {
  options.signal?.throwIfAborted();
  const progress = new ProgressReporter(options.onProgress);
  return startVm(await vmOptions(options, progress), progress);
}

/** Plans a boot without starting QEMU (the `--shell` path runs QEMU in a terminal itself). */
export async function prepareBoot(options: BootOptions = {}): Promise<BootPlan> {
  const progress = new ProgressReporter(options.onProgress);
  return planBoot(await vmOptions(options, progress), progress);
}

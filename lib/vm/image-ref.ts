/**
 * Turning what a user names as an image ("debian", a cache key, a directory, a recipe object)
 * into a bootable image directory and layout, building it when it is not in the cache yet.
 */
import { access, constants, open } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ImageLayout } from "../images/recipe.js";
import { buildImage, findImage, readImageDir, type ImageSpec } from "../images/index.js";
import { UsageError } from "../errors/index.js";
import type { ProgressListener } from "../progress/index.js";

/** A built image ready to boot. */
export interface BootableImage {
  dir: string;
  layout: ImageLayout;
  kind: string;
  /** Host path of the kallsyms file, when captured. */
  kallsyms?: string;
}

export type ImageRef = string | ImageSpec | BootableImage;

function isBootable(ref: ImageRef): ref is BootableImage {
  return typeof ref === "object" && "layout" in ref && "dir" in ref;
}

export async function resolveImage(ref: ImageRef | undefined, onProgress?: ProgressListener, signal?: AbortSignal): Promise<BootableImage> {
  if (ref !== undefined && isBootable(ref)) return ref;
  if (typeof ref === "string" && (ref.includes("/") || ref.startsWith("."))) {
    const image = await readImageDir(resolve(ref));
    if (!image) throw new UsageError(`${ref} is not a kbook image directory (no manifest.json).`, { hint: "Use 'kbook image list' to see built images." });
    return fromStored(image.dir, image.manifest);
  }
  if (typeof ref === "string" && /^[a-z]+-[0-9a-f]{16}$/.test(ref)) {
    const image = await findImage(ref);
    if (!image) throw new UsageError(`No image ${ref} in the cache.`, { hint: "Use 'kbook image list' to see built images." });
    return fromStored(image.dir, image.manifest);
  }
  const built = await buildImage(ref ?? "debian", { onProgress, signal });
  return fromStored(built.dir, built.manifest);
}

function fromStored(dir: string, manifest: { layout: ImageLayout; recipe: { kind: string }; kallsyms?: string }): BootableImage {
  return { dir, layout: manifest.layout, kind: manifest.recipe.kind, kallsyms: manifest.kallsyms ? join(dir, manifest.kallsyms) : undefined };
}

/** True when a file starts like a kernel QEMU can boot: an ELF vmlinux or a bzImage ("HdrS" at 0x202). */
export async function checkKernelFile(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new UsageError(`Kernel ${path} does not exist or is not readable.`, {
      hint: "Pass the path of a bzImage (arch/x86/boot/bzImage) or an uncompressed vmlinux.",
    });
  }
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(0x206);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const elf = bytesRead >= 4 && head.readUInt32BE(0) === 0x7f454c46;
    const bz = bytesRead >= 0x206 && head.toString("latin1", 0x202, 0x206) === "HdrS";
    if (!elf && !bz) {
      throw new UsageError(`${path} is not a Linux kernel image (neither a bzImage nor an ELF vmlinux).`, {
        hint: "After 'make', the kernel is arch/x86/boot/bzImage (or vmlinux at the top of the tree).",
      });
    }
  } finally {
    await handle.close();
  }
}

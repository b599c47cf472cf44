/**
 * What the VM layer boots: an image directory and its layout, as built by lib/images (or by
 * anyone: the VM layer does not build or look up images, it is given one), and the check that a
 * kernel file the user names is one QEMU can boot.
 */
import { access, constants, open } from "node:fs/promises";
import { UsageError } from "../errors/index.js";
import type { GuestKitMode } from "./kit.js";

/** How an image's files boot: recorded in its manifest by the recipe that built it. */
export interface ImageLayout {
  /** Kernel to pass as `-kernel` (bzImage), relative to the image dir. */
  kernel: string;
  /** Uncompressed ELF vmlinux, bootable through the PVH entry (faster under TCG). */
  vmlinux?: string;
  /** initrd/initramfs, relative to the image dir. */
  initrd?: string;
  /** Root disk, relative to the image dir; absent for initramfs-only images. */
  disk?: { file: string; format: "raw" | "qcow2"; interface: "ide" | "virtio" };
  /** Kernel command line words the image needs (root=, init=…), before the user's `append`. */
  append: string[];
  /**
   * How kbook's init and agent reach the guest: appended to the initrd at boot (see kit.ts),
   * or absent when the recipe installs them into the image itself.
   */
  kit?: GuestKitMode;
  /** `uname -r` of the image's kernel. */
  kernelRelease: string;
  /** Versions of notable software in the image (kernel, perf, bpftrace, busybox…). */
  versions: Record<string, string>;
}

/** A built image ready to boot. */
export interface BootableImage {
  dir: string;
  layout: ImageLayout;
  kind: string;
  /** Host path of the kallsyms file, when captured. */
  kallsyms?: string;
  /** sha256 of the image's files by their path in `dir`, from its manifest (when it has one). */
  hashes?: Record<string, string>;
}

/**
 * Checks a file starts like a kernel QEMU can boot and says which: an ELF vmlinux (booted through
 * its PVH entry) or a bzImage ("HdrS" at 0x202).
 */
export async function checkKernelFile(path: string): Promise<"elf" | "bzimage"> {
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
    if (bytesRead >= 4 && head.readUInt32BE(0) === 0x7f454c46) return "elf";
    if (bytesRead >= 0x206 && head.toString("latin1", 0x202, 0x206) === "HdrS") return "bzimage";
    throw new UsageError(`${path} is not a Linux kernel image (neither a bzImage nor an ELF vmlinux).`, {
      hint: "After 'make', the kernel is arch/x86/boot/bzImage (or vmlinux at the top of the tree).",
    });
  } finally {
    await handle.close();
  }
}

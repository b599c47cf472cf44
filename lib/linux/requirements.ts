/**
 * What a kernel of your own must have built in to boot on kbook's images and be driven by kbook,
 * checked against its .config before QEMU starts: a missing option is named with what it is
 * for, instead of a boot that hangs until its timeout. Pure over the parsed config.
 */
import { configValue, type ConfigValue } from "./kconfig.js";

export interface KernelRequirement {
  symbol: string;
  /** What breaks without it. */
  why: string;
  /** Only for disk images (root=/dev/sda), only with a shared folder, or always. */
  when: "always" | "disk" | "share" | "vmlinux";
  /** A module is no help: the image's initrd carries modules of its own kernel only. */
  builtIn: boolean;
}

export const KERNEL_REQUIREMENTS: KernelRequirement[] = [
  { symbol: "VIRTIO_PCI", why: "the PCI transport of kbook's command channel", when: "always", builtIn: true },
  { symbol: "VIRTIO_CONSOLE", why: "kbook's command channel to the guest agent (virtio-serial)", when: "always", builtIn: true },
  { symbol: "SERIAL_8250_CONSOLE", why: "the serial console (console=ttyS0) kbook reads boot messages and panics from", when: "always", builtIn: true },
  { symbol: "BLK_DEV_INITRD", why: "the initrd that carries kbook's init and agent", when: "always", builtIn: true },
  { symbol: "DEVTMPFS", why: "/dev in the guest", when: "always", builtIn: true },
  { symbol: "BINFMT_SCRIPT", why: "kbook's init, a shell script", when: "always", builtIn: true },
  { symbol: "ATA_PIIX", why: "the IDE controller of the root disk (root=/dev/sda)", when: "disk", builtIn: true },
  { symbol: "BLK_DEV_SD", why: "the /dev/sda disk itself", when: "disk", builtIn: true },
  { symbol: "EXT4_FS", why: "the root filesystem (ext4)", when: "disk", builtIn: true },
  { symbol: "9P_FS", why: "the shared folder (9p over virtio)", when: "share", builtIn: true },
  { symbol: "NET_9P_VIRTIO", why: "the shared folder's virtio transport", when: "share", builtIn: true },
  { symbol: "PVH", why: "booting an uncompressed vmlinux directly (QEMU's PVH entry); boot the bzImage instead", when: "vmlinux", builtIn: true },
];

export interface RequirementContext {
  disk: boolean;
  share: boolean;
  /** The kernel file is an ELF vmlinux (booted through PVH). */
  vmlinux: boolean;
}

/** The requirements a config misses for this boot, with their reasons. */
export function missingRequirements(config: Map<string, ConfigValue>, context: RequirementContext): { requirement: KernelRequirement; value: ConfigValue }[] {
  return KERNEL_REQUIREMENTS.filter((r) => r.when === "always" || (r.when === "disk" && context.disk) || (r.when === "share" && context.share) || (r.when === "vmlinux" && context.vmlinux))
    .map((requirement) => ({ requirement, value: configValue(config, requirement.symbol) }))
    .filter(({ requirement, value }) => value !== "y" && !(value === "m" && !requirement.builtIn));
}

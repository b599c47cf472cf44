/**
 * What kbook adds to a system setup-alpine installed (the `iso` method): the tracing packages,
 * the agent and its OpenRC service, the serial getty, and a copy of the installed kernel and
 * initramfs for the host. It runs on the live ISO system with the installed disk mounted at
 * /mnt; its files reach the guest through a 9p share, so nothing is typed but one command.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { alpineConfigFiles, runlevelLinks, SERIAL_GETTY, type AlpineGuestConfig } from "./config.js";

/** 9p mount tag of the share and where the live system mounts it. */
export const SHARE_TAG = "kbook";
export const SHARE_MOUNT = "/media/kbook";

/** setup-disk's `sys` layout on one disk: sda1 /boot, sda2 swap, sda3 root, as in the article. */
export const ISO_ROOT_DEVICE = "/dev/sda3";
export const ISO_BOOT_DEVICE = "/dev/sda1";
export const ISO_DISK_APPEND = [`root=${ISO_ROOT_DEVICE}`, "rootfstype=ext4", "modules=sd-mod,usb-storage,ext4", "rw"];

/**
 * Config files the installed system takes from kbook. setup-alpine already wrote hostname,
 * fstab (by UUID, with /boot and swap), interfaces and repositories: those are left alone.
 */
const FROM_KBOOK = new Set(["/etc/init.d/kbook-agent", "/etc/modules-load.d/kbook.conf", "/etc/sysctl.d/90-kbook.conf"]);

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command typed at the live system's shell once setup-alpine is done. */
export function finishCommand(): string {
  return `modprobe -q 9pnet_virtio; modprobe -q 9p; mkdir -p ${SHARE_MOUNT} && mount -t 9p -o trans=virtio,version=9p2000.L ${SHARE_TAG} ${SHARE_MOUNT} && sh ${SHARE_MOUNT}/finish.sh`;
}

/** The finishing script (POSIX sh for busybox), run on the live system. */
export function finishScript(packages: string[]): string {
  const links = runlevelLinks()
    .map(({ link, target }) => `link ${shellQuote(target)} ${shellQuote(link)}`)
    .join("\n");
  return `#!/bin/sh
# kbook: finish the system setup-alpine installed on /dev/sda (mounted at /mnt).
set -e
root=/mnt
share=${SHARE_MOUNT}
mountpoint -q "$root" || mount ${ISO_ROOT_DEVICE} "$root"
mountpoint -q "$root/boot" || mount ${ISO_BOOT_DEVICE} "$root/boot"

# perf and bpftrace (community) and the recipe's packages, from the repositories setup-alpine chose.
grep -q '/community$' "$root/etc/apk/repositories" || sed -n 's|/main$|/community|p' "$root/etc/apk/repositories" >> "$root/etc/apk/repositories"
apk --root "$root" --keys-dir "$root/etc/apk/keys" --repositories-file "$root/etc/apk/repositories" --no-progress add ${packages.map(shellQuote).join(" ")}

cp -a "$share/rootfs/." "$root/"
link() { [ -e "$root$1" ] || return 0; mkdir -p "$root\${2%/*}"; ln -sf "$1" "$root$2"; }
${links}

grep -q '^ttyS0::' "$root/etc/inittab" || echo ${shellQuote(SERIAL_GETTY)} >> "$root/etc/inittab"
grep -qx ttyS0 "$root/etc/securetty" 2>/dev/null || echo ttyS0 >> "$root/etc/securetty"
sed -i 's/^root:[^:]*:/root::/' "$root/etc/shadow"

mkdir -p "$share/out"
for k in "$root"/boot/vmlinuz-*; do cp "$k" "$share/out/vmlinuz"; cp "$root/boot/initramfs-\${k##*/vmlinuz-}" "$share/out/initrd.img"; break; done
ls "$root/lib/modules" > "$share/out/kernel-release"
cp "$root/lib/apk/db/installed" "$share/out/installed"
cat "$root/etc/alpine-release" > "$share/out/alpine-release"
sync
umount "$root/boot" "$root"
`;
}

/** Lays out the 9p share: finish.sh and a rootfs/ tree of kbook's files. */
export async function prepareFinishShare(shareDir: string, config: AlpineGuestConfig, packages: string[]): Promise<string> {
  const rootfs = join(shareDir, "rootfs");
  await mkdir(rootfs, { recursive: true });
  for (const file of alpineConfigFiles(config).filter((f) => FROM_KBOOK.has(f.path))) {
    const path = join(rootfs, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    await chmod(path, file.mode);
  }
  await writeFile(join(shareDir, "finish.sh"), finishScript(packages), { mode: 0o755 });
  return rootfs;
}

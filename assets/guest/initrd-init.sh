#!/bin/sh
# The small initrd of disk-based kbook images: load the few modules the guest needs
# (distribution kernels build ata_piix, sd_mod, ext4 and virtio as modules), mount the root disk
# and switch to it. Debian's own initramfs does the same with udev and ~30 MB of modules.
#
# It also hands kbook's init, agent and this static busybox to the new root on a tmpfs
# (/run/kbook), so kbook-init runs on static binaries from RAM: under TCG every exec of a
# dynamically linked Debian binary from the emulated disk costs ~0.1 s, and an init that runs
# thirty of them spends seconds doing nothing.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
cmdline=$(cat /proc/cmdline)
arg() { for w in $cmdline; do case "$w" in "$1"=*) echo "${w#*=}"; return;; esac; done; }
share=$(arg kbook.share)

# 9p (a shared host folder) only when asked for: each module costs boot time under TCG.
while read -r mod; do
	case "$mod" in 9p*|netfs*|fscache*) [ -n "$share" ] || continue;; esac
	insmod "/modules/$mod" 2>/dev/null
done < /modules/order

root=$(arg root); root=${root:-/dev/sda}
rootfstype=$(arg rootfstype); rootfstype=${rootfstype:-ext4}
init=$(arg init); init=${init:-/sbin/kbook-init}
flags=ro; for w in $cmdline; do [ "$w" = rw ] && flags=rw; done

i=0
while [ ! -b "$root" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
mkdir -p /newroot
if ! mount -t "$rootfstype" -o "$flags" "$root" /newroot; then
	echo "kbook-initrd: cannot mount root $root ($rootfstype); block devices:" > /dev/console
	ls /sys/class/block > /dev/console
	echo c > /proc/sysrq-trigger
fi

if [ -d /kit ]; then
	mount -t tmpfs -o mode=0755 tmpfs /newroot/run
	mkdir -p /newroot/run/kbook
	cp /bin/busybox /kit/kbook-init /kit/kbook-agent /newroot/run/kbook/
	[ "$init" = /sbin/kbook-init ] && init="/run/kbook/busybox sh /run/kbook/kbook-init"
fi
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
# $init is split on purpose: it may be "/run/kbook/busybox sh /run/kbook/kbook-init".
exec switch_root /newroot $init

#!/bin/sh
# The small initrd of disk-based kbook images: load the few modules the root disk needs
# (distribution kernels build ata_piix, sd_mod and ext4 as modules), mount root and switch to it.
# Debian's own initramfs does the same with udev and ~30 MB of modules; this takes ~0.3 s.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
cmdline=$(cat /proc/cmdline)
arg() { for w in $cmdline; do case "$w" in "$1"=*) echo "${w#*=}"; return;; esac; done; }

while read -r mod; do
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
# kbook's init and agent come with the initrd (appended at boot), not from the disk, so images
# in the cache keep working across kbook versions. They land on the VM's overlay, never the base.
if [ -d /kit ]; then
	mkdir -p /newroot/sbin
	cp /kit/kbook-init /kit/kbook-agent /newroot/sbin/ || echo "kbook-initrd: cannot install the kbook kit into the root" > /dev/console
fi
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot "$init"

#!/bin/sh
# kbook-init: PID 1 of every kbook guest (busybox initramfs, Debian, Alpine with init=).
# It does only what kernel work needs and then starts the agent, which is how the host talks to
# the guest: no systemd, no getty, no network. This is why a Debian guest is ready in seconds
# under TCG instead of the ~14 s systemd takes.
#
# It runs under Debian's static busybox sh, built as a "standalone shell": mount, mkdir, insmod
# and the rest are its applets, run in-process or forked without an exec. On disk images the
# initrd puts this script, the agent and busybox in /run/kbook (see initrd-init.sh), because
# under TCG every exec of a dynamically linked binary from the emulated disk costs ~0.1 s. The
# agent's commands get the distribution's normal PATH.
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [ -x /run/kbook/kbook-agent ]; then AGENT=/run/kbook/kbook-agent; else AGENT=/sbin/kbook-agent; fi
export PATH=$GUEST_PATH HOME=/root TERM=linux

mounted=$(cat /proc/mounts 2>/dev/null)
mountfs() { # type target [options]
	case "$mounted" in *" $2 "*) return 0;; esac
	mkdir -p "$2"
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" 2>/dev/null
}
mountfs proc /proc
mounted=$(cat /proc/mounts)
mountfs sysfs /sys
mountfs devtmpfs /dev
mountfs devpts /dev/pts
mountfs tmpfs /dev/shm
mountfs tmpfs /run mode=0755
mountfs tmpfs /tmp mode=1777
# perf and bpftrace need tracefs and debugfs; bpf programs may pin into bpffs.
mountfs tracefs /sys/kernel/tracing
mountfs debugfs /sys/kernel/debug
mountfs bpf /sys/fs/bpf
mountfs cgroup2 /sys/fs/cgroup

# Symbol addresses for perf, bpftrace and gdb: the article sets these two sysctls by hand.
echo 0 > /proc/sys/kernel/kptr_restrict
echo -1 > /proc/sys/kernel/perf_event_paranoid
echo kbook > /proc/sys/kernel/hostname
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null

cmdline=$(cat /proc/cmdline)
arg() { for w in $cmdline; do case "$w" in "$1"=*) echo "${w#*=}"; return;; esac; done; }
share=$(arg kbook.share)

# The agent's virtio-serial port and 9p shares are modules in distribution kernels; 9p only when
# a folder is shared. An initramfs lists its modules in load order (it has no modules.dep); a
# disk image's initrd has loaded them already; otherwise modprobe (no udev here to load drivers
# by modalias, so the virtio_pci bus is named too).
if [ -f /modules/order ]; then
	while read -r mod; do
		case "$mod" in 9p*|netfs*|fscache*) [ -n "$share" ] || continue;; esac
		insmod "/modules/$mod" 2>/dev/null
	done < /modules/order
elif [ ! -d /sys/module/virtio_console ]; then
	modprobe -q virtio_pci; modprobe -q virtio_console
	[ -n "$share" ] && { modprobe -q 9pnet_virtio; modprobe -q 9p; }
fi

if [ -n "$share" ]; then
	mkdir -p /mnt/host
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "$share" /mnt/host || echo "kbook-init: cannot mount share $share" > /dev/console
fi

$AGENT &
echo "kbook-init: agent started" > /dev/console

# `poweroff`, `halt` and `reboot` signal PID 1 (busybox: USR2, USR1, TERM); this script is PID 1,
# so it does what they ask. reboot(2) itself, not sysrq, which a kernel may lack.
# A path, not a name: the user's shell has no busybox on its PATH on Debian.
BUSYBOX=busybox
for b in /run/kbook/busybox /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { BUSYBOX=$b; break; }; done
trap 'sync; $BUSYBOX poweroff -f' USR2 TERM
trap 'sync; $BUSYBOX halt -f' USR1

if [ "$(arg kbook.shell)" = 1 ]; then
	# An interactive root shell on the serial console (kbook boot --shell); powering off when it
	# exits. Debian's own poweroff is systemd's, which does not run here: the shell gets aliases
	# that end the VM (through $ENV, read by interactive dash and ash after the profile files).
	cat > /run/kbook-shellrc <<-EOF
	alias poweroff='sync; $BUSYBOX poweroff -f' halt='sync; $BUSYBOX poweroff -f' reboot='sync; $BUSYBOX poweroff -f'
	EOF
	echo "kbook: root shell on the serial console; 'poweroff' or 'exit' ends the VM, Ctrl-] detaches." > /dev/ttyS0
	ENV=/run/kbook-shellrc setsid -c /bin/sh -l < /dev/ttyS0 > /dev/ttyS0 2>&1 || ENV=/run/kbook-shellrc setsid /bin/sh -l < /dev/ttyS0 > /dev/ttyS0 2>&1
	sync
	$BUSYBOX poweroff -f
fi

# PID 1 must never exit: reap orphans until the host powers the guest off.
while :; do wait; sleep 1; done

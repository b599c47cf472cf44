#!/bin/sh
# A stand-in for the Alpine ISO's serial console, for testing kbook's installer plumbing over a
# real pty without QEMU. It prints setup-alpine's prompts (reconstructed from alpine-conf) and
# logs what it receives. Usage: fake-iso-console.sh MODE WORKDIR   (MODE: ok | unknown)
mode=$1 work=$2
echo $$ > "$work/pid"
log() { echo "$1" >> "$work/received"; }
ask() { printf '%s ' "$1"; read -r reply; log "$2=$reply"; }

printf 'Welcome to Alpine Linux 3.21\nKernel 6.12.8-0-virt on an x86_64 (/dev/ttyS0)\n\nlocalhost login: '
read -r user; log "login=$user"
while :; do
	printf 'localhost:~# '
	read -r line || exit 3
	case "$line" in
	*setup-alpine*)
		echo "$line" | sed -n 's/^echo \([A-Za-z0-9+/=]*\) | base64 -d.*/\1/p' | base64 -d > "$work/answers"
		. "$work/answers"
		log "DISKOPTS=$DISKOPTS"
		echo ' * Restarting hostname ... [ ok ]'
		if [ "$mode" = unknown ]; then
			ask 'No disks available. Try boot media /media/cdrom? (y/n) [n]' unknown
			exit 4
		fi
		ask "Which timezone are you in? ('?' for list) [UTC]" timezone
		ask "Which disk(s) would you like to use? (or '?' for help or 'none') [none]" disk
		ask "How would you like to use it? ('sys', 'data', 'crypt', 'lvm' or '?' for help) [?]" mode
		[ "$reply" = sys ] || { echo "ERROR: unknown mode $reply"; echo KBOOK-SETUP-EXIT=1; continue; }
		echo 'Installing system on /dev/sda3:'
		sleep 1
		echo 'Installation is complete. Please reboot.'
		echo KBOOK-SETUP-EXIT=0
		;;
	*finish.sh*) log "finish"; echo '(1/2) Installing perf (6.12.8-r0)'; echo KBOOK-FINISH-EXIT=0 ;;
	poweroff) log poweroff; exit 0 ;;
	*) echo "sh: $line: not found" ;;
	esac
done

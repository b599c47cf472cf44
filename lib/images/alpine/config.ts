/**
 * The configuration setup-alpine would write, generated as data (pure, unit-tested) and applied
 * to a root filesystem tree. The guest boots busybox init → OpenRC, which starts kbook's agent as
 * a service; `init=/sbin/kbook-init` (installed too) remains available for faster boots.
 */
import { chmod, mkdir, readFile, symlink, writeFile, lstat, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

export interface AlpineGuestConfig {
  hostname: string;
  mirror: string;
  /** Repository branch, e.g. "v3.21" or "edge". */
  branch: string;
  /** Root device in /etc/fstab: /dev/sda (minirootfs route) or /dev/sda3 (installer route). */
  rootDevice: string;
}

export interface ConfigFile {
  path: string;
  content: string;
  mode: number;
}

/** The serial getty the article's console needs; 115200 baud is QEMU's default for ttyS0. */
export const SERIAL_GETTY = "ttyS0::respawn:/sbin/getty -L 115200 ttyS0 vt100";

/**
 * OpenRC runlevels, as setup-alpine and alpine-make-vm-image enable them: device nodes and
 * coldplug in sysinit, the basics in boot, kbook's agent in default, clean unmounts on shutdown.
 */
export const ALPINE_RUNLEVELS: Record<string, string[]> = {
  sysinit: ["devfs", "dmesg", "mdev", "hwdrivers"],
  boot: ["modules", "sysctl", "hostname", "bootmisc", "syslog"],
  default: ["kbook-agent"],
  shutdown: ["mount-ro", "killprocs", "savecache"],
};

/**
 * OpenRC service for kbook's agent. Before starting it does what kbook-init does on the other
 * images: tracefs/debugfs/bpffs for perf and bpftrace, the two sysctls the article sets by
 * hand, the virtio-serial and 9p modules (modules in Alpine's kernels), and the host share.
 */
export const KBOOK_AGENT_SERVICE = `#!/sbin/openrc-run
# kbook guest agent: the host's command channel into this guest (no network needed).
description="kbook guest agent"
command=/sbin/kbook-agent
command_background=true
pidfile=/run/kbook-agent.pid

depend() {
	after modules sysctl bootmisc
}

start_pre() {
	for m in virtio_console 9pnet_virtio 9p; do modprobe -q "$m" 2>/dev/null; done
	mountfs() { mkdir -p "$2"; mountpoint -q "$2" || mount -t "$1" "$1" "$2" 2>/dev/null; }
	mountfs tracefs /sys/kernel/tracing
	mountfs debugfs /sys/kernel/debug
	mountfs bpf /sys/fs/bpf
	echo 0 > /proc/sys/kernel/kptr_restrict
	echo -1 > /proc/sys/kernel/perf_event_paranoid
	for w in $(cat /proc/cmdline); do
		case "$w" in kbook.share=*)
			mkdir -p /mnt/host
			mountpoint -q /mnt/host || mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "\${w#*=}" /mnt/host
		;; esac
	done
	return 0
}
`;

/** Files written into the guest's root filesystem. */
export function alpineConfigFiles(config: AlpineGuestConfig): ConfigFile[] {
  const { hostname, mirror, branch, rootDevice } = config;
  return [
    { path: "/etc/hostname", content: `${hostname}\n`, mode: 0o644 },
    {
      path: "/etc/hosts",
      content: `127.0.0.1\t${hostname} localhost.localdomain localhost\n::1\t\tlocalhost localhost.localdomain\n`,
      mode: 0o644,
    },
    { path: "/etc/fstab", content: `${rootDevice}\t/\text4\trw,relatime\t0 1\n`, mode: 0o644 },
    { path: "/etc/apk/repositories", content: `${mirror}/${branch}/main\n${mirror}/${branch}/community\n`, mode: 0o644 },
    { path: "/etc/network/interfaces", content: "auto lo\niface lo inet loopback\n", mode: 0o644 },
    // Read by OpenRC's `modules` service at boot.
    { path: "/etc/modules-load.d/kbook.conf", content: "virtio_console\n9pnet_virtio\n9p\n", mode: 0o644 },
    { path: "/etc/sysctl.d/90-kbook.conf", content: "kernel.kptr_restrict = 0\nkernel.perf_event_paranoid = -1\n", mode: 0o644 },
    { path: "/etc/init.d/kbook-agent", content: KBOOK_AGENT_SERVICE, mode: 0o755 },
  ];
}

/** The symlinks `rc-update add SERVICE LEVEL` makes: /etc/runlevels/LEVEL/SERVICE → /etc/init.d/SERVICE. */
export function runlevelLinks(runlevels: Record<string, string[]> = ALPINE_RUNLEVELS): { link: string; target: string }[] {
  return Object.entries(runlevels).flatMap(([level, services]) =>
    services.map((service) => ({ link: `/etc/runlevels/${level}/${service}`, target: `/etc/init.d/${service}` })),
  );
}

/**
 * /etc/inittab with a getty on the serial console: an existing (commented) ttyS0 line is
 * enabled, otherwise one is added. The VGA gettys stay: QEMU -nographic simply has no screen.
 */
export function withSerialGetty(inittab: string): string {
  const lines = inittab.replace(/\n$/, "").split("\n");
  let found = false;
  const out = lines.map((line) => {
    if (/^#?\s*ttyS0::/.test(line)) {
      found = true;
      return SERIAL_GETTY;
    }
    return line;
  });
  if (!found) out.push(SERIAL_GETTY);
  return `${out.join("\n")}\n`;
}

/** Busybox's default inittab for Alpine, used when the rootfs has none. */
export const DEFAULT_INITTAB = [
  "::sysinit:/sbin/openrc sysinit",
  "::sysinit:/sbin/openrc boot",
  "::wait:/sbin/openrc default",
  SERIAL_GETTY,
  "::ctrlaltdel:/sbin/reboot",
  "::shutdown:/sbin/openrc shutdown",
].join("\n") + "\n";

/** /etc/securetty with ttyS0, so root may log in on the serial console. */
export function withSerialSecuretty(securetty: string): string {
  const lines = securetty.split("\n").filter((l) => l !== "");
  if (!lines.includes("ttyS0")) lines.push("ttyS0");
  return `${lines.join("\n")}\n`;
}

/**
 * /etc/shadow with root's password emptied: the guest is a throwaway VM reachable only through
 * its serial console and kbook's agent, and `kbook boot --shell` should log in with just "root".
 */
export function withPasswordlessRoot(shadow: string): string {
  return shadow.replace(/^root:[^:]*:/m, "root::");
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return fallback;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the configuration into `rootfs`. Runlevel links are made only for services whose init
 * script exists (a package set without syslog, say); the skipped ones are returned.
 */
export async function applyAlpineConfig(rootfs: string, config: AlpineGuestConfig): Promise<{ skippedServices: string[] }> {
  for (const file of alpineConfigFiles(config)) {
    const path = join(rootfs, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    await chmod(path, file.mode);
  }
  const inittab = join(rootfs, "etc/inittab");
  await writeFile(inittab, withSerialGetty(await readOr(inittab, DEFAULT_INITTAB)));
  const securetty = join(rootfs, "etc/securetty");
  if (await exists(securetty)) await writeFile(securetty, withSerialSecuretty(await readOr(securetty, "")));
  const shadow = join(rootfs, "etc/shadow");
  if (await exists(shadow)) await writeFile(shadow, withPasswordlessRoot(await readOr(shadow, "")));

  const skippedServices: string[] = [];
  for (const { link, target } of runlevelLinks()) {
    if (!(await exists(join(rootfs, target)))) {
      skippedServices.push(target.slice("/etc/init.d/".length));
      continue;
    }
    const at = join(rootfs, link);
    await mkdir(dirname(at), { recursive: true });
    await rm(at, { force: true });
    await symlink(target, at);
  }
  return { skippedServices };
}

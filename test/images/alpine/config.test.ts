import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  alpineConfigFiles,
  applyAlpineConfig,
  KBOOK_AGENT_SERVICE,
  runlevelLinks,
  SERIAL_GETTY,
  withPasswordlessRoot,
  withSerialGetty,
  withSerialSecuretty,
} from "../../../lib/images/alpine/config.js";

const config = { hostname: "kbook", mirror: "https://mirror.test/alpine", branch: "v3.21", rootDevice: "/dev/sda" };

// Alpine's stock /etc/inittab (alpine-baselayout), reconstructed.
const ALPINE_INITTAB = `# /etc/inittab

::sysinit:/sbin/openrc sysinit
::sysinit:/sbin/openrc boot
::wait:/sbin/openrc default

# Set up a couple of getty's
tty1::respawn:/sbin/getty 38400 tty1
tty2::respawn:/sbin/getty 38400 tty2

# Put a getty on the serial port
#ttyS0::respawn:/sbin/getty -L 115200 ttyS0 vt100

# Stuff to do for the 3-finger salute
::ctrlaltdel:/sbin/reboot

# Stuff to do before rebooting
::shutdown:/sbin/openrc shutdown
`;

describe("generated configuration", () => {
  it("writes what setup-alpine would: hostname, hosts, fstab on /dev/sda, repositories", () => {
    const files = Object.fromEntries(alpineConfigFiles(config).map((f) => [f.path, f.content]));
    expect(files["/etc/hostname"]).toBe("kbook\n");
    expect(files["/etc/hosts"]).toMatch(/^127\.0\.0\.1\tkbook localhost\.localdomain localhost\n/);
    expect(files["/etc/fstab"]).toBe("/dev/sda\t/\text4\trw,relatime\t0 1\n");
    expect(files["/etc/apk/repositories"]).toBe("https://mirror.test/alpine/v3.21/main\nhttps://mirror.test/alpine/v3.21/community\n");
    expect(files["/etc/sysctl.d/90-kbook.conf"]).toContain("kernel.perf_event_paranoid = -1");
    expect(alpineConfigFiles({ ...config, rootDevice: "/dev/sda3" }).find((f) => f.path === "/etc/fstab")!.content).toMatch(/^\/dev\/sda3\t/);
  });

  it("enables the commented serial getty of Alpine's inittab, once", () => {
    const once = withSerialGetty(ALPINE_INITTAB);
    expect(once).toContain(`\n${SERIAL_GETTY}\n`);
    expect(once).not.toContain("#ttyS0");
    expect(once.match(/ttyS0::/g)).toHaveLength(1);
    expect(withSerialGetty(once)).toBe(once);
    expect(withSerialGetty("::sysinit:/sbin/openrc sysinit\n")).toBe(`::sysinit:/sbin/openrc sysinit\n${SERIAL_GETTY}\n`);
  });

  it("lets root in on the serial console without a password", () => {
    expect(withPasswordlessRoot("root:*:19000:0:::::\nbin:!::0:::::\n")).toBe("root::19000:0:::::\nbin:!::0:::::\n");
    expect(withSerialSecuretty("console\ntty1\n")).toBe("console\ntty1\nttyS0\n");
    expect(withSerialSecuretty("ttyS0\n")).toBe("ttyS0\n");
  });

  it("puts the agent in the default runlevel and the basics in sysinit/boot/shutdown", () => {
    const links = runlevelLinks().map((l) => l.link);
    expect(links).toContain("/etc/runlevels/default/kbook-agent");
    expect(links).toContain("/etc/runlevels/sysinit/devfs");
    expect(links).toContain("/etc/runlevels/boot/sysctl");
    expect(links).toContain("/etc/runlevels/shutdown/mount-ro");
  });

  it("the agent's OpenRC service is valid sh that starts /sbin/kbook-agent", () => {
    const dir = mkdtempSync(join(tmpdir(), "kbook-initd-"));
    writeFileSync(join(dir, "kbook-agent"), KBOOK_AGENT_SERVICE);
    execFileSync("sh", ["-n", join(dir, "kbook-agent")]);
    expect(KBOOK_AGENT_SERVICE.startsWith("#!/sbin/openrc-run\n")).toBe(true);
    expect(KBOOK_AGENT_SERVICE).toMatch(/^command=\/sbin\/kbook-agent$/m);
    expect(KBOOK_AGENT_SERVICE).toContain("mount -t 9p");
  });
});

describe("applyAlpineConfig", () => {
  it("writes the files into a rootfs and links only services that exist", async () => {
    const root = mkdtempSync(join(tmpdir(), "kbook-rootfs-"));
    mkdirSync(join(root, "etc/init.d"), { recursive: true });
    for (const s of ["devfs", "mdev", "hostname", "sysctl", "mount-ro", "killprocs"]) writeFileSync(join(root, "etc/init.d", s), "#!/sbin/openrc-run\n");
    writeFileSync(join(root, "etc/inittab"), ALPINE_INITTAB);
    writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:::::\n");
    const { skippedServices } = await applyAlpineConfig(root, config);
    expect(skippedServices.sort()).toEqual(["bootmisc", "dmesg", "hwdrivers", "modules", "savecache", "syslog"]);
    expect(readlinkSync(join(root, "etc/runlevels/default/kbook-agent"))).toBe("/etc/init.d/kbook-agent");
    expect(readlinkSync(join(root, "etc/runlevels/sysinit/devfs"))).toBe("/etc/init.d/devfs");
    expect(existsSync(join(root, "etc/runlevels/boot/syslog"))).toBe(false);
    expect(statSync(join(root, "etc/init.d/kbook-agent")).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(root, "etc/inittab"), "utf8")).toContain(SERIAL_GETTY);
    expect(readFileSync(join(root, "etc/shadow"), "utf8")).toBe("root::19000:0:::::\n");
    // Applying twice is harmless (a rebuild over the same tree).
    await applyAlpineConfig(root, config);
    expect(readFileSync(join(root, "etc/inittab"), "utf8").match(/ttyS0::/g)).toHaveLength(1);
  });
});

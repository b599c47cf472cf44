/**
 * The QEMU command line, as a pure function of a plan. Every listener it creates is a unix
 * socket or bound to 127.0.0.1: `-gdb tcp:127.0.0.1:PORT` and never QEMU's `-s`, which is
 * `-gdb tcp::1234` and listens on every interface of the machine.
 */
export interface QemuPlan {
  qemu: string;
  accel: "kvm" | "tcg";
  memoryMb: number;
  smp: number;
  kernel: string;
  initrd?: string;
  /** The full kernel command line. */
  append: string;
  /** The root disk (a qcow2 overlay over the read-only base, or the base with snapshot=on). */
  disk?: { path: string; format: "raw" | "qcow2"; interface: "ide" | "virtio"; snapshot?: boolean };
  /** Unix socket for the guest agent's virtio-serial port. */
  agentSocket: string;
  /** Unix socket for QMP. */
  qmpSocket: string;
  /** Start a gdbstub on 127.0.0.1 at this port. */
  gdbPort?: number;
  /** Hold the CPUs at reset until a debugger continues them (-S). */
  paused?: boolean;
  /** A host folder shared with the guest over 9p. */
  share?: { path: string; tag: string; readonly?: boolean };
  /**
   * Take memory and device state from a migration stream (e.g. "fd:3") instead of booting. The
   * CPUs then stay stopped (-S) until kbook has checked the stream and continues them.
   */
  incoming?: string;
}

/** The virtio-serial port name the guest agent looks for. */
export const AGENT_PORT_NAME = "org.kbook.agent";

/** QEMU option values are comma-separated key=value lists: a comma in a path is written twice. */
export function qemuEscape(value: string): string {
  return value.replace(/,/g, ",,");
}

export function buildQemuArgv(plan: QemuPlan): string[] {
  const argv = [
    "-name", "kbook,debug-threads=on",
    "-machine", "pc",
    // No default NIC, VGA, floppy or CD: less to probe at boot, and no network unless asked for.
    "-nodefaults",
    "-display", "none",
    "-no-reboot",
    "-m", `${plan.memoryMb}M`,
    "-smp", String(plan.smp),
  ];
  if (plan.accel === "kvm") argv.push("-accel", "kvm", "-cpu", "host");
  else argv.push("-accel", "tcg,thread=multi");
  argv.push("-kernel", plan.kernel);
  if (plan.initrd) argv.push("-initrd", plan.initrd);
  argv.push("-append", plan.append);
  // The serial console is QEMU's stdio: kbook reads it for boot progress and panics, or a pty
  // gives it to the user (kbook boot --shell). signal=off passes Ctrl-C to the guest.
  argv.push("-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console");
  if (plan.disk) {
    const d = plan.disk;
    // cache=unsafe: the written layer is a throwaway overlay, so flushes buy nothing.
    argv.push(
      "-drive",
      `file=${qemuEscape(d.path)},format=${d.format},if=${d.interface},cache=unsafe${d.snapshot ? ",snapshot=on" : ""}`,
    );
  }
  argv.push(
    "-device", "virtio-serial-pci,id=vser0",
    "-chardev", `socket,id=agent,path=${qemuEscape(plan.agentSocket)},server=on,wait=off`,
    "-device", `virtserialport,bus=vser0.0,chardev=agent,name=${AGENT_PORT_NAME}`,
    "-chardev", `socket,id=qmp,path=${qemuEscape(plan.qmpSocket)},server=on,wait=off`,
    "-mon", "chardev=qmp,mode=control",
  );
  if (plan.share) {
    argv.push(
      "-virtfs",
      `local,path=${qemuEscape(plan.share.path)},mount_tag=${plan.share.tag},security_model=none,id=${plan.share.tag}${plan.share.readonly ? ",readonly=on" : ""}`,
    );
  }
  if (plan.gdbPort !== undefined) argv.push("-gdb", `tcp:127.0.0.1:${plan.gdbPort}`);
  if (plan.incoming) argv.push("-incoming", plan.incoming);
  if (plan.paused || plan.incoming) argv.push("-S");
  return [plan.qemu, ...argv];
}

/** The default kernel command line words (the article's, plus quiet boot and panic handling). */
export const DEFAULT_APPEND = ["console=ttyS0", "nokaslr"];

/**
 * Joins the kernel command line: defaults, the image's words (root=, init=…), kbook's own
 * switches, then the user's `append`, so a user's word of the same key comes last and wins.
 */
export function kernelCommandLine(imageWords: readonly string[], user: string | undefined, extra: readonly string[] = []): string {
  // panic=-1: reboot at once on a panic; with -no-reboot QEMU then exits instead of hanging.
  const words = [...DEFAULT_APPEND, ...imageWords, "quiet", "panic=-1", ...extra];
  if (user?.trim()) words.push(...user.trim().split(/\s+/));
  return words.join(" ");
}

/** Shell-quoted rendering of an argv, for showing the exact command line to a person. */
export function formatCommandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

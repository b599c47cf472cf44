import { describe, expect, it } from "vitest";
import { buildQemuArgv, kernelCommandLine, formatCommandLine, qemuEscape, type QemuPlan } from "../../lib/vm/argv.js";

const plan: QemuPlan = {
  qemu: "qemu-system-x86_64",
  accel: "tcg",
  memoryMb: 1024,
  smp: 2,
  kernel: "/img/vmlinux",
  initrd: "/img/initrd.img",
  append: "console=ttyS0 root=/dev/sda",
  disk: { path: "/run/vm/overlay.qcow2", format: "qcow2", interface: "ide" },
  agentSocket: "/run/vm/agent.sock",
  qmpSocket: "/run/vm/qmp.sock",
};

function optionValues(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
}

describe("buildQemuArgv", () => {
  it("boots the kernel with -kernel/-initrd/-append and multi-threaded TCG", () => {
    const argv = buildQemuArgv(plan);
    expect(argv[0]).toBe("qemu-system-x86_64");
    expect(optionValues(argv, "-kernel")).toEqual(["/img/vmlinux"]);
    expect(optionValues(argv, "-initrd")).toEqual(["/img/initrd.img"]);
    expect(optionValues(argv, "-append")).toEqual(["console=ttyS0 root=/dev/sda"]);
    expect(optionValues(argv, "-accel")).toEqual(["tcg,thread=multi"]);
    expect(argv).toContain("-no-reboot");
    expect(optionValues(argv, "-m")).toEqual(["1024M"]);
  });

  it("uses KVM with the host CPU when asked", () => {
    const argv = buildQemuArgv({ ...plan, accel: "kvm" });
    expect(optionValues(argv, "-accel")).toEqual(["kvm"]);
    expect(optionValues(argv, "-cpu")).toEqual(["host"]);
  });

  it("attaches the disk as IDE (/dev/sda in the guest) through the overlay", () => {
    expect(optionValues(buildQemuArgv(plan), "-drive")).toEqual(["file=/run/vm/overlay.qcow2,format=qcow2,if=ide,cache=unsafe"]);
    expect(optionValues(buildQemuArgv({ ...plan, disk: undefined }), "-drive")).toEqual([]);
  });

  it("resumes from a migration stream on fd 3 with the CPUs held until kbook continues them", () => {
    const argv = buildQemuArgv({ ...plan, incoming: "fd:3" });
    expect(optionValues(argv, "-incoming")).toEqual(["fd:3"]);
    expect(argv).toContain("-S");
    // The same machine line otherwise: a state saved from one boot loads into the other.
    const strip = (a: string[]) => a.filter((w, i) => w !== "-S" && w !== "-incoming" && a[i - 1] !== "-incoming");
    expect(strip(argv)).toEqual(buildQemuArgv(plan));
  });

  it("puts every listener on a unix socket or 127.0.0.1, never -s", () => {
    const argv = buildQemuArgv({ ...plan, gdbPort: 4321, paused: true });
    expect(argv).not.toContain("-s");
    expect(optionValues(argv, "-gdb")).toEqual(["tcp:127.0.0.1:4321"]);
    expect(argv).toContain("-S");
    const chardevs = optionValues(argv, "-chardev");
    expect(chardevs).toContain("socket,id=agent,path=/run/vm/agent.sock,server=on,wait=off");
    expect(chardevs).toContain("socket,id=qmp,path=/run/vm/qmp.sock,server=on,wait=off");
    for (const c of chardevs) expect(c).not.toMatch(/host=|port=|tcp/);
    expect(argv.join(" ")).not.toMatch(/-netdev|-nic|hostfwd/);
  });

  it("escapes commas in paths so a path cannot add QEMU options", () => {
    expect(qemuEscape("/a,b")).toBe("/a,,b");
    const argv = buildQemuArgv({ ...plan, disk: { ...plan.disk!, path: "/x,format=raw,file=/etc/passwd" } });
    expect(optionValues(argv, "-drive")[0]).toBe("file=/x,,format=raw,,file=/etc/passwd,format=qcow2,if=ide,cache=unsafe");
    const shared = buildQemuArgv({ ...plan, share: { path: "/h,readonly=off", tag: "t" } });
    expect(optionValues(shared, "-virtfs")[0]).toBe("local,path=/h,,readonly=off,mount_tag=t,security_model=none,id=t");
  });
});

describe("kernelCommandLine", () => {
  it("starts from the article's line and lets the user's words come last", () => {
    const line = kernelCommandLine(["root=/dev/sda", "rw", "init=/sbin/kbook-init"], "nokaslr=off loglevel=7 ");
    expect(line.split(" ").slice(0, 5)).toEqual(["console=ttyS0", "nokaslr", "root=/dev/sda", "rw", "init=/sbin/kbook-init"]);
    expect(line.endsWith("nokaslr=off loglevel=7")).toBe(true);
    expect(line).toContain("panic=-1");
  });
});

describe("formatCommandLine", () => {
  it("quotes words a shell would split", () => {
    expect(formatCommandLine(["qemu", "-append", "root=/dev/sda console=ttyS0", "it's"])).toBe(`qemu -append 'root=/dev/sda console=ttyS0' 'it'\\''s'`);
  });
});

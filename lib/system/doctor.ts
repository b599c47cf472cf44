/**
 * `kbook doctor`: what kbook needs from the machine, found or missing with versions, the
 * accelerator decision and the perf sysctls; and `--install`, which installs what is missing
 * with apt-get (as root) or prints the exact command to run.
 */
import { readFile } from "node:fs/promises";
import { execa } from "execa";
import { detectAccel, type AccelDecision } from "./accel.js";

export interface Dependency {
  /** What it is, for people. */
  name: string;
  /** The Debian package that provides it. */
  aptPackage: string;
  /** argv printing a version; the first line matching `versionPattern` is shown. */
  probe: string[];
  versionPattern?: RegExp;
  /** Needed for: shown next to a missing dependency. */
  neededFor: string;
}

/** Jupyter comes from Debian's packages; /usr/bin/python3 is the interpreter that has it. */
export const JUPYTER_PYTHON = "/usr/bin/python3";

export const DEPENDENCIES: Dependency[] = [
  { name: "qemu-system-x86", aptPackage: "qemu-system-x86", probe: ["qemu-system-x86_64", "--version"], versionPattern: /version (\S+)/, neededFor: "booting guests" },
  { name: "qemu-img", aptPackage: "qemu-utils", probe: ["qemu-img", "--version"], versionPattern: /version (\S+)/, neededFor: "VM disk overlays" },
  { name: "mke2fs", aptPackage: "e2fsprogs", probe: ["mke2fs", "-V"], versionPattern: /mke2fs (\S+)/, neededFor: "image root disks" },
  { name: "mmdebstrap", aptPackage: "mmdebstrap", probe: ["mmdebstrap", "--version"], versionPattern: /mmdebstrap (\S+)/, neededFor: "the debian image" },
  { name: "busybox-static", aptPackage: "busybox-static", probe: ["busybox"], versionPattern: /BusyBox v(\S+)/, neededFor: "initramfs and the busybox image" },
  { name: "xz", aptPackage: "xz-utils", probe: ["xz", "--version"], versionPattern: /xz \(XZ Utils\) (\S+)/, neededFor: "extracting vmlinux for fast PVH boots" },
  { name: "setpriv", aptPackage: "util-linux", probe: ["setpriv", "--version"], versionPattern: /util-linux (\S+)/, neededFor: "tying QEMU's life to kbook's" },
  { name: "gcc (static)", aptPackage: "gcc libc6-dev", probe: ["gcc", "--version"], versionPattern: /\) (\S+)/, neededFor: "building the guest agent" },
  { name: "gdb", aptPackage: "gdb", probe: ["gdb", "--version"], versionPattern: /GNU gdb \([^)]*\) (\S+)/, neededFor: "kernel debugging" },
  { name: "objcopy", aptPackage: "binutils", probe: ["objcopy", "--version"], versionPattern: /\) (\S+)/, neededFor: "gdb symbols from kallsyms" },
  { name: "bpftrace", aptPackage: "bpftrace", probe: ["bpftrace", "--version"], versionPattern: /bpftrace v?(\S+)/, neededFor: "host-side bpftrace (kprobes run in the guest)" },
  { name: "perf", aptPackage: "linux-perf", probe: ["perf", "--version"], versionPattern: /perf version (\S+)/, neededFor: "perf on the host and perf.data input" },
  {
    name: "Jupyter",
    aptPackage: "jupyter-notebook python3-jupyter-server python3-nbclient jupyter-nbconvert python3-jupyter-kernel-test python3-ipykernel",
    probe: [
      JUPYTER_PYTHON,
      "-c",
      "import nbclient, nbconvert, notebook, jupyter_server, jupyter_kernel_test; print('nbclient', nbclient.__version__, 'nbconvert', nbconvert.__version__, 'notebook', notebook.__version__, 'jupyter_server', jupyter_server.__version__)",
    ],
    versionPattern: /(nbclient .*)/,
    neededFor: "notebooks (kbook run, export via nbconvert, kernel and front-end tests)",
  },
  // Building your own kernel (kbook linux build): Debian's source and the kernel's build tools.
  { name: "linux-source-6.1", aptPackage: "linux-source-6.1", probe: ["dpkg-query", "-W", "-f", "${Version}\n", "linux-source-6.1"], versionPattern: /^(\d\S*)/, neededFor: "kbook linux build (the default kernel source)" },
  {
    name: "kernel build tools",
    aptPackage: "make flex bison bc libelf-dev libssl-dev dwarves ccache patch",
    probe: ["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "make", "flex", "bison", "bc", "libelf-dev", "libssl-dev", "dwarves", "ccache", "patch"],
    versionPattern: /(dwarves \S+)/,
    neededFor: "kbook linux build (flex, bison, bc, libelf, OpenSSL headers, pahole for BTF, ccache, patch)",
  },
  { name: "chromium", aptPackage: "chromium", probe: ["chromium", "--version"], versionPattern: /Chromium (\S+)/, neededFor: "browser tests of exported HTML" },
];

export interface DependencyStatus {
  dependency: Dependency;
  found: boolean;
  version?: string;
}

export interface DoctorReport {
  dependencies: DependencyStatus[];
  accel: AccelDecision;
  sysctls: { name: string; value: string | undefined; advice?: string }[];
  /** Debian packages to install for what is missing. */
  missingPackages: string[];
}

export async function checkDependency(dependency: Dependency): Promise<DependencyStatus> {
  const [file, ...args] = dependency.probe;
  const r = await execa(file!, args, { reject: false, timeout: 15_000, all: true, stdin: "ignore" });
  // busybox with no arguments prints its banner and exits 0; `mke2fs -V` prints to stderr.
  if (r.failed && (r as { code?: string }).code === "ENOENT") return { dependency, found: false };
  const output = String(r.all ?? "");
  if (r.exitCode !== 0 && !(dependency.versionPattern && dependency.versionPattern.test(output))) return { dependency, found: false };
  const version = dependency.versionPattern?.exec(output)?.[1] ?? output.split("\n")[0]?.trim();
  return { dependency, found: true, version };
}

async function readSysctl(name: string): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/sys/${name.replace(/\./g, "/")}`, "utf8")).trim();
  } catch {
    return undefined;
  }
}

/** What the perf sysctls mean for profiling this host (the article sets both by hand). */
export function sysctlAdvice(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return "not readable";
  const n = Number(value);
  if (name === "kernel.perf_event_paranoid" && n > 1) {
    return `perf as a normal user cannot profile the kernel; as root it can. To allow it: sudo sysctl kernel.perf_event_paranoid=-1`;
  }
  if (name === "kernel.kptr_restrict" && n > 0) {
    return `kernel addresses are hidden from non-root users; perf shows [unknown] frames. To show them: sudo sysctl kernel.kptr_restrict=0`;
  }
  return undefined;
}

export async function runDoctor(): Promise<DoctorReport> {
  const dependencies = await Promise.all(DEPENDENCIES.map(checkDependency));
  const sysctls = await Promise.all(
    ["kernel.perf_event_paranoid", "kernel.kptr_restrict"].map(async (name) => {
      const value = await readSysctl(name);
      return { name, value, advice: sysctlAdvice(name, value) };
    }),
  );
  const missingPackages = [...new Set(dependencies.filter((d) => !d.found).flatMap((d) => d.dependency.aptPackage.split(" ")))];
  return { dependencies, accel: await detectAccel(), sysctls, missingPackages };
}

export function formatDoctorReport(report: DoctorReport): string {
  const width = Math.max(...report.dependencies.map((d) => d.dependency.name.length));
  const lines = ["System dependencies:"];
  for (const d of report.dependencies) {
    lines.push(
      `  ${d.found ? "found  " : "MISSING"}  ${d.dependency.name.padEnd(width)}  ${d.found ? d.version ?? "" : `(apt: ${d.dependency.aptPackage}; for ${d.dependency.neededFor})`}`,
    );
  }
  lines.push("", `Accelerator: ${report.accel.accel.toUpperCase()} — ${report.accel.reason}`, "", "perf sysctls:");
  for (const s of report.sysctls) lines.push(`  ${s.name} = ${s.value ?? "?"}${s.advice ? `  (${s.advice})` : ""}`);
  return lines.join("\n") + "\n";
}

/** The apt-get command line that installs the missing packages. */
export function aptInstallArgv(packages: readonly string[]): string[] {
  return ["apt-get", "install", "-y", "--no-install-recommends", ...packages];
}

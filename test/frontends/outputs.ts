/**
 * kbook's displays, made from recorded captures without a VM: the article's dd profile and a
 * Node JIT profile (test/perf/testdata), bpftrace results (test/bpftrace/testdata), a probe
 * list, a VM and a gdb stop (test/gdb/testdata). One profile has frame names that are markup,
 * to show that every front end prints them as text.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseBpftraceOutput, ProbeList } from "../../lib/bpftrace/index.js";
import { parseMiLine, type MiTuple } from "../../lib/gdb/mi.js";
import { parseStack, parseStopRecord, withStopDisplay } from "../../lib/gdb/stop.js";
import { readSourceExcerpt } from "../../lib/gdb/source.js";
import { collapsePerfScript } from "../../lib/perf/collapse-input.js";
import { Profile } from "../../lib/perf/profile.js";
import { JUPYTER_DISPLAY, isDisplayable } from "../../lib/viz/mime.js";
import { renderVmDisplay } from "../../lib/vm/display.js";
import { capturePath } from "../perf/captures.js";
import { displayOutput, type DisplayOutput } from "./harness.js";

const BPFTRACE = join(import.meta.dirname, "../bpftrace/testdata");
const GDB = join(import.meta.dirname, "../gdb/testdata");

export const HOSTILE_FRAME = "<img src=x onerror=alert(1)>";

function perfProfile(name: "guest-dd" | "host-node-jit", source: string): Profile {
  const { folded, stats } = collapsePerfScript(readFileSync(capturePath(name)), { all: true });
  return new Profile(folded, { source, event: stats.event, rootIsProcess: true, colors: "java" });
}

export function show(value: unknown): DisplayOutput {
  if (!isDisplayable(value)) throw new Error("not a kbook display");
  return displayOutput(value[JUPYTER_DISPLAY]());
}

/** The gdb stop at do_sys_openat2 in the recorded QEMU session, with its backtrace. */
function gdbStop(): unknown {
  const lines = readFileSync(join(GDB, "qemu-session.mi"), "utf8").split("\n");
  const at = lines.findIndex((l) => l.startsWith("*stopped") && l.includes("do_sys_openat2"));
  const stop = parseMiLine(lines[at]!) as { results: MiTuple };
  const stack = parseMiLine(lines[at + 1]!) as { results: MiTuple };
  return withStopDisplay({ ...parseStopRecord(stop.results), backtrace: parseStack(stack.results.stack), registerArgs: [{ register: "rsi", value: 0x7fffc800efdan }] });
}

/** A source-level stop (with DWARF, the source at hand): in add() of the gdb tests' target.c. */
async function gdbSourceStop(): Promise<unknown> {
  const fullname = join(GDB, "target.c");
  const source = await readSourceExcerpt(fullname, "target.c", 10, 2);
  return withStopDisplay({
    reason: "breakpoint-hit",
    breakpoint: 1,
    function: "add",
    address: 0x401136n,
    file: "target.c",
    fullname,
    line: 10,
    args: [
      { name: "a", value: "3" },
      { name: "b", value: "4" },
    ],
    source,
    backtrace: [
      { level: 0, address: 0x401136n, function: "add", file: "target.c", line: 10, args: [{ name: "a", value: "3" }, { name: "b", value: "4" }] },
      { level: 1, address: 0x401187n, function: "greet", file: "target.c", line: 16, args: [] },
      { level: 2, address: 0x4011c9n, function: "main", file: "target.c", line: 22, args: [] },
    ],
    raw: {},
  } as Parameters<typeof withStopDisplay>[0]);
}

export async function kbookDisplays() {
  const dd = perfProfile("guest-dd", "guest: perf record -a -g -- dd if=/dev/zero of=/tmp/test.dat bs=1024K count=100");
  const jit = perfProfile("host-node-jit", "host: perf record -g -- node --perf-basic-prof host-node-jit.js");
  const hostile = new Profile(`main;${HOSTILE_FRAME};<script>alert(2)</script> 30\nmain;work 10\n`, { source: "<b>not bold</b>" });
  const tick = parseBpftraceOutput(readFileSync(join(BPFTRACE, "guest-task-tick-fair.json"), "utf8"));
  const allTypes = parseBpftraceOutput(readFileSync(join(BPFTRACE, "all-types.json"), "utf8"));
  const stacks = tick.stacks();
  const probes = new ProbeList("kprobe:vfs_*", [
    ...["vfs_read", "vfs_write", "vfs_open", "vfs_fsync", "vfs_readv", "vfs_writev", "vfs_statx", "vfs_unlink"].map((n) => `kprobe:${n}`),
    "kprobe:<script>alert(3)</script>",
  ]);
  const vm = renderVmDisplay({
    kind: "debian",
    accel: "tcg",
    accelReason: "/dev/kvm is not there: QEMU emulates the CPU (TCG)",
    state: "running, up in 14.2 s",
    kernel: "6.1.0-18-amd64",
    append: "console=ttyS0 quiet",
    gdbPort: 34567,
    commandLine: "qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -nographic",
  });
  return {
    dd: show(dd),
    jit: show(jit),
    hostile: show(hostile),
    ddProfile: dd,
    stackFlameGraph: displayOutput(stacks.flameGraphDisplay()),
    stackTable: show(stacks),
    chart: show(await stacks.chart()),
    bpftraceReport: show(allTypes),
    tickReport: show(tick),
    bpftraceDisplays: (await allTypes.displays()).map(displayOutput),
    probes: show(probes),
    vm: displayOutput(vm),
    gdbStop: show(gdbStop()),
    gdbSourceStop: show(await gdbSourceStop()),
  };
}

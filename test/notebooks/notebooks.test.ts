/**
 * The tutorial notebooks. Each one is executed for real, headless, from a fresh kernel with
 * `kbook run` (nbclient) against QEMU guests under TCG, must finish without an error, and its
 * saved outputs must show what its text teaches: the QEMU command line with -kernel and
 * root=/dev/sda, the file name gdb read from $rsi, a flame graph with dd in it, kstack counts
 * whose top frame is task_tick_fair, histograms with the workload's two block sizes…
 * The committed notebooks themselves carry no outputs.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cellById,
  errorOutputs,
  flameGraphFrames,
  histogramCount,
  outputData,
  outputText,
  readNotebook,
  source,
  stackRows,
  stackTotal,
  type Notebook,
} from "./notebook-outputs.js";
import { isRunning } from "../support/processes.js";
import { NOTEBOOKS_DIR, runNotebook, type NotebookRun } from "./run-notebook.js";

const NOTEBOOKS = [
  "00-reproduce-the-article",
  "01-images-and-caching",
  "02-boot-your-own-kernel",
  "03-gdb-on-the-kernel",
  "04-reading-a-flame-graph",
  "05-bpftrace",
  "06-change-the-kernel",
];

const minutes = (n: number) => n * 60_000;

/** Runs a notebook and checks what every run must satisfy; returns the executed notebook. */
async function executed(name: string, cellTimeoutS: number): Promise<Notebook> {
  const run: NotebookRun = await runNotebook(name, cellTimeoutS);
  expect(errorOutputs(run.notebook), `errors in ${run.outputPath}`).toEqual([]);
  expect(run.exitCode, run.stderr).toBe(0);
  const codeCells = run.notebook.cells.filter((c) => c.cell_type === "code");
  expect(codeCells.filter((c) => typeof c.execution_count !== "number").map((c) => c.id), "cells that did not run").toEqual([]);
  // Every notebook boots a guest; it shuts its VMs down, and the kernel stops any it did not:
  // no QEMU may outlive the run.
  expect(run.qemuPids.length, "QEMU processes seen during the run").toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 500));
  expect(run.qemuPids.filter(isRunning), "QEMU processes left running").toEqual([]);
  return run.notebook;
}

const text = (nb: Notebook, id: string) => outputText(cellById(nb, id));

/** Every listed stack of a kstack count display starts at the probed function. */
function expectStacksTopped(listing: string, fn: string, minimumTotal: number): void {
  const rows = stackRows(listing);
  expect(rows.length, listing.slice(0, 500)).toBeGreaterThan(0);
  for (const row of rows) expect(row.frames[0], `a stack of ${row.count}`).toMatch(new RegExp(`^${fn}\\+\\d+$`));
  expect(stackTotal(listing)).toBeGreaterThanOrEqual(minimumTotal);
}

describe("the notebooks as committed", () => {
  const notebooks = NOTEBOOKS.map((name) => ({ name, nb: readNotebook(join(NOTEBOOKS_DIR, `${name}.ipynb`)) }));

  it("are exactly the tutorial's seven, each tested below", () => {
    expect(readdirSync(NOTEBOOKS_DIR).filter((f) => f.endsWith(".ipynb")).sort()).toEqual(NOTEBOOKS.map((n) => `${n}.ipynb`));
  });

  it.each(notebooks)("$name is an nbformat 4.5 notebook for the kbook kernel, without outputs", ({ nb }) => {
    expect(nb.nbformat).toBe(4);
    expect(nb.nbformat_minor).toBeGreaterThanOrEqual(5);
    expect(nb.metadata.kernelspec).toMatchObject({ name: "kbook", display_name: "TypeScript (kbook)", language: "typescript" });
    expect(nb.metadata.language_info?.name).toBe("typescript");
    const ids = nb.cells.map((c) => c.id);
    expect(ids.every((id) => typeof id === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const cell of nb.cells.filter((c) => c.cell_type === "code")) {
      expect(cell.outputs, `outputs of ${cell.id}`).toEqual([]);
      expect(cell.execution_count).toBeNull();
    }
  });

  it.each(notebooks)("$name starts with a title, teaches in markdown, and ends by shutting its VM down", ({ name, nb }) => {
    expect(source(nb.cells[0]!)).toMatch(/^# \S/);
    const markdown = nb.cells.filter((c) => c.cell_type === "markdown").map(source).join("\n");
    const code = nb.cells.filter((c) => c.cell_type === "code");
    // Explanations, not only API calls: at least as much prose as code.
    expect(markdown.length).toBeGreaterThan(code.map(source).join("\n").length);
    expect(source(code[code.length - 1]!)).toMatch(/await vm\.shutdown\(\)/);
    if (name !== "00-reproduce-the-article") expect(markdown).toMatch(/^## Exercise$/m);
  });
});

describe("the notebooks executed headless with kbook run", () => {
  it(
    "00 reproduces the article: image, -kernel boot, gdb on do_sys_openat2, perf flame graph of dd, task_tick_fair kstacks",
    async () => {
      // A cold cache builds the Debian image in the first cell (minutes under TCG).
      const nb = await executed("00-reproduce-the-article", 1200);
      expect(text(nb, "build-image")).toMatch(/key: 'debian-[0-9a-f]{16}'/);

      const vm = text(nb, "boot-vm");
      expect(vm).toMatch(/qemu-system-x86_64 .* -kernel \S+/);
      expect(vm).toMatch(/-append '[^']*\broot=\/dev\/sda\b[^']*\bnokaslr\b|-append '[^']*\bnokaslr\b[^']*\broot=\/dev\/sda\b/);
      expect(vm).toMatch(/-gdb tcp:127\.0\.0\.1:\d+/);
      expect(text(nb, "command-line")).toMatch(/^-kernel \/\S+\/vmlinux$/m);
      expect(text(nb, "guest-view")).toMatch(/root filesystem: +\/dev\/sda ext4/);

      expect(text(nb, "gdb-break")).toMatch(/hw breakpoint 1 at 0xffffffff[0-9a-f]+ in do_sys_openat2/);
      const open = text(nb, "gdb-open");
      expect(open).toContain("filename read from $rsi: /etc/hostname");
      expect(open).toMatch(/stopped \(breakpoint 1\) in do_sys_openat2/);
      expect(open).toMatch(/in __x64_sys_openat/);
      expect(text(nb, "gdb-magic")).toMatch(/0x[0-9a-f]+:\s+"\/etc\/hostname"/);
      expect(text(nb, "gdb-continue")).toBe("'kbook\\n'");

      const [flame] = outputData(cellById(nb, "perf-dd"), "image/svg+xml");
      const frames = flameGraphFrames(flame ?? "");
      expect(frames).toContain("dd");
      expect(frames).toContain("swapper");
      expect(frames.some((f) => /^(ksys_write|vfs_write)$/.test(f))).toBe(true);
      expect(text(nb, "perf-summary")).toMatch(/\| syscalls \| [1-9]\d*\.\d %/);

      expectStacksTopped(text(nb, "bpftrace-ticks"), "task_tick_fair", 50);
      const chart = cellById(nb, "ticks-chart");
      expect(outputData(chart, "application/vnd.vegalite.v5+json")).toHaveLength(1);
      expect(outputData(chart, "image/svg+xml").some((svg) => flameGraphFrames(svg).includes("task_tick_fair"))).toBe(true);
      expect(text(nb, "ticks-interrupted")).toMatch(/\| system call \(\w+\) \| \d+ \|/);
      expect(text(nb, "shutdown")).toMatch(/stopped/);
    },
    minutes(25),
  );

  it(
    "01 shows recipes, normalisation, cache hits, the manifest and the busybox guest",
    async () => {
      const nb = await executed("01-images-and-caching", 900);
      expect(text(nb, "recipe-kinds")).toMatch(/kind: 'busybox'/);
      expect(text(nb, "normalise")).toContain("same image: true");
      expect(text(nb, "build-twice")).toMatch(/what: 'second build', key: 'busybox-[0-9a-f]{16}', fromCache: true/);
      const manifest = text(nb, "manifest");
      for (const file of ["vmlinuz", "vmlinux", "initrd.img", "kallsyms"]) expect(manifest).toContain(`\`${file}\``);
      expect(manifest).toMatch(/"kernelRelease": "\d+\.\d+/);
      expect(text(nb, "kallsyms")).toMatch(/^ffffffff81000000 T _text$/m);
      const inside = text(nb, "busybox-inside");
      expect(inside).toContain("rdinit=/init");
      expect(inside).toMatch(/root: rootfs \/ rootfs/);
      expect(inside).toMatch(/BusyBox v\d/);
      // A second VM of the same configuration resumes from the state the first boot saved.
      const states = text(nb, "saved-states");
      expect(states).toMatch(/second VM: resumed, up in \d+\.\d\d s/);
      expect(states).toContain("same guest, separate machines: kbook");
      expect(states).toMatch(/\| `busybox-[0-9a-f]{20}` \| busybox \| \d+\.\d+/);
    },
    minutes(15),
  );

  it(
    "02 boots a bzImage with -kernel and -append, and shows root=/dev/sda and nokaslr at work",
    async () => {
      const nb = await executed("02-boot-your-own-kernel", 900);
      const files = text(nb, "kernel-files");
      expect(files).toMatch(/vmlinuz',\s+size: '[\d.]+ MiB',\s+format: 'bzImage: "HdrS" at 0x202, boot protocol 2\.\d+'/);
      expect(files).toMatch(/vmlinux',\s+size: '[\d.]+ MiB',\s+format: 'ELF/);
      const boot = text(nb, "boot-own-kernel");
      expect(boot).toMatch(/^-kernel \/\S+\/vmlinuz$/m);
      expect(boot).toMatch(/^-append '.*\broot=\/dev\/sda\b.* loglevel=4 kbook\.demo=1 greeting=hello'$/m);
      expect(text(nb, "cmdline-words")).toMatch(/\| `root=\/dev\/sda` \| the device to mount/);
      const cmdline = text(nb, "guest-cmdline");
      expect(cmdline).toMatch(/^console=ttyS0 nokaslr .*greeting=hello$/m);
      expect(cmdline).toContain("in PID 1's environment: greeting=hello");
      const disk = text(nb, "guest-disk");
      expect(disk).toMatch(/\/dev\/sda: .*TYPE="ext4"/);
      expect(disk).toMatch(/sysfs path: \/sys\/devices\/pci0000:00\/\S+\/ata\d+\/\S+\/block\/sda/);
      expect(disk).toMatch(/modules loaded by the initrd: .*ata_piix/);
      const kaslr = text(nb, "nokaslr");
      expect(kaslr).toContain("identical: true");
      expect(kaslr).toMatch(/ffffffff81000000 T _text/);
    },
    minutes(15),
  );

  it(
    "03 catches start_kernel from a paused boot, reads do_sys_openat2's arguments, backtraces and finishes",
    async () => {
      const nb = await executed("03-gdb-on-the-kernel", 900);
      const reset = text(nb, "gdb-attach");
      expect(reset).toContain("rip = 0xfff0, cs = 0xf000");
      expect(reset).toContain("paging (cr0 bit 31): off");
      expect(reset).toMatch(/symbols: kallsyms, DWARF: false, stable addresses: true/);
      expect(text(nb, "break-start-kernel")).toMatch(/stopped \(breakpoint 1\) in start_kernel at 0xffffffff[0-9a-f]+/);
      const state = text(nb, "start-kernel-state");
      expect(state).toContain("start_kernel in section .init.text");
      const cr0 = /\(gdb\) p\/x \$cr0\n\$\d+ = (0x[0-9a-f]+)/.exec(state);
      expect(cr0, state).not.toBeNull();
      expect(BigInt(cr0![1]!) & 0x80000001n).toBe(0x80000001n); // paging and protected mode on
      expect(text(nb, "let-it-boot")).toMatch(/'\d+\.\d+\.\d+-\S+\\n'/);
      const open = text(nb, "break-open");
      expect(open).toMatch(/file names at do_sys_openat2, in order: \[.*"\/etc\/hostname"\]/);
      expect(open).toMatch(/in do_sys_openat2 at 0xffffffff/);
      // ftrace has turned the `call __fentry__` seen at start_kernel into a 5-byte no-op.
      expect(text(nb, "fentry-nop")).toMatch(/<do_sys_openat2>:\s+nop/);
      const args = text(nb, "decode-args");
      expect(args).toContain("dfd: '-100 (AT_FDCWD");
      expect(args).toContain("filename: '/etc/hostname'");
      expect(args).toMatch(/flags: '0x[0-9a-f]+ = O_RDONLY \| O_LARGEFILE'/);
      expect(text(nb, "backtrace")).toMatch(/'#0 +0xffffffff[0-9a-f]+ +do_sys_openat2',\s+'#1 +0xffffffff[0-9a-f]+ +__x64_sys_openat'/);
      const finish = text(nb, "finish");
      expect(finish).toMatch(/back in __x64_sys_openat at 0xffffffff[0-9a-f]+; do_sys_openat2 returned 3 \(a file descriptor\)/);
      expect(finish).toContain("'kbook\\n'");
    },
    minutes(15),
  );

  it(
    "04 draws dd's flame graph, finds the timer-interrupt towers, and a differential flame graph of two block sizes",
    async () => {
      const nb = await executed("04-reading-a-flame-graph", 900);
      const [flame] = outputData(cellById(nb, "profile-1m"), "image/svg+xml");
      const frames = flameGraphFrames(flame ?? "");
      expect(frames).toContain("dd");
      expect(frames).toContain("shmem_write_begin");
      expect(text(nb, "top")).toMatch(/\| `ksys_write` \| [\d.]+ % \| [1-9][\d.]* % \|/);
      // Softirq towers come and go with the guest's deferred work; the samples that pile up where
      // interrupts are re-enabled are there in every cpu-clock profile.
      const interrupts = text(nb, "timer-towers");
      expect(interrupts).toMatch(/^[\d.]+ % of the samples are inside a timer interrupt's softirqs$/m);
      const reenabled = /^([\d.]+) % of the samples were taken where interrupts were re-enabled \(_raw_spin_unlock_irq/m.exec(interrupts);
      expect(Number(reenabled?.[1]), interrupts).toBeGreaterThan(0);
      const [interruptGraph] = outputData(cellById(nb, "timer-graph"), "image/svg+xml");
      expect(flameGraphFrames(interruptGraph ?? "").some((f) => /^_raw_spin_unlock_irq(restore)?$/.test(f))).toBe(true);
      expect(text(nb, "compare")).toMatch(/\| `security_file_permission` \| [\d.]+ % \| [\d.]+ % \|/);
      const [diff] = outputData(cellById(nb, "diff"), "image/svg+xml");
      // A differential frame's tooltip carries the change: "name (N samples, P%; +D%)".
      const changes = [...(diff ?? "").matchAll(/<title>[^<]*?; ([+-]?[\d.]+)%\)<\/title>/g)].map((m) => Number(m[1]));
      expect(changes.length).toBeGreaterThan(10);
      expect(changes.some((d) => d > 0)).toBe(true);
      expect(flameGraphFrames(diff ?? "")).toContain("dd");
    },
    minutes(15),
  );

  it(
    "05 lists probes and runs kprobe, kfunc and tracepoint programs: kstack counts, sizes and latency histograms, opens",
    async () => {
      const nb = await executed("05-bpftrace", 900);
      // The HTML list holds every probe (the text form stops at 50).
      expect(outputData(cellById(nb, "probes-kfunc"), "text/html").join("")).toContain("kfunc:vmlinux:vfs_read<");
      expect(text(nb, "probes-tracepoints")).toContain("'tracepoint:syscalls:sys_enter_openat'");
      expectStacksTopped(text(nb, "kstack"), "task_tick_fair", 50);
      expect(outputData(cellById(nb, "kstack-chart"), "application/vnd.vegalite.v5+json")).toHaveLength(1);
      const sizes = text(nb, "kfunc-sizes");
      expect(histogramCount(sizes, "[4K, 8K)")).toBeGreaterThan(0);
      expect(histogramCount(sizes, "[4M, 8M)")).toBeGreaterThan(0);
      for (const id of ["latency-kprobe", "latency-tracepoint"]) {
        const latency = text(nb, id);
        expect(latency, id).toMatch(/^@us:$/m);
        expect(histogramCount(latency, "[2, 4)") + histogramCount(latency, "[4, 8)"), id).toBeGreaterThan(0);
        expect(outputData(cellById(nb, id), "text/html").join("")).toContain("<svg");
      }
      const perSize = text(nb, "latency-kfunc");
      expect(perSize).toMatch(/^@us\[4096\]:$/m);
      expect(perSize).toMatch(/^@us\[4194304\]:$/m);
      expect(text(nb, "opens")).toMatch(/^@\[cat,\/etc\/hostname\]: \d+$/m);
      expect(text(nb, "opens-data")).toMatch(/processAndFile: 'cat,\/etc\/hostname'/);
    },
    minutes(15),
  );

  it(
    "06 builds the learn kernel, debugs it at source level, patches fs/open.c and sees the change",
    async () => {
      // A cold cache builds the kernel in the first cell (minutes on two cores).
      const nb = await executed("06-change-the-kernel", 1800);
      expect(text(nb, "build-kernel")).toMatch(/release: '6\.1\.\d+'/);
      const config = text(nb, "config");
      for (const option of ["DEBUG_INFO_DWARF5", "DEBUG_INFO_BTF", "GDB_SCRIPTS", "VIRTIO_CONSOLE", "PVH"]) expect(config).toContain(`CONFIG_${option}=y`);
      expect(text(nb, "boot")).toMatch(/'6\.1\.\d+\\n\/sys\/kernel\/btf\/vmlinux\\n\d+\\n'/);

      const stop = text(nb, "gdb-break");
      expect(stop).toContain('filename = "/etc/hostname", symbols from vmlinux with DWARF: true');
      expect(stop).toMatch(/stopped \(breakpoint 1\) in do_sys_openat2 at 0x[0-9a-f]+ \(\S*fs\/open\.c:\d+\)/);
      expect(stop).toMatch(/^=> +\d+ /m); // the source line the stop is at
      expect(outputData(cellById(nb, "gdb-break"), "text/html").join("")).toContain("kbook-gdb-current");
      const values = text(nb, "gdb-values");
      expect(values).toContain("'struct open_how * how'");
      expect(values).toMatch(/how: \{ flags: \d+, mode: \d+, resolve: 0 \}/);
      expect(values).toContain("comm: 'cat'");
      const bt = text(nb, "gdb-bt");
      expect(bt).toMatch(/#0  do_sys_openat2 \(dfd=(dfd@entry=)?-100, filename=/);
      expect(bt).toMatch(/entry_SYSCALL_64 \(\) at \S*arch\/x86\/entry\/entry_64\.S:\d+/);
      expect(bt).toMatch(/^\d+\s.*static long do_sys_openat2|^\d+\s+struct open_flags op;/m); // list
      expect(text(nb, "gdb-lx")).toMatch(/\s1\s+\S+/);
      expect(text(nb, "gdb-continue")).toBe("'kbook\\n'");

      expect(text(nb, "patch")).toContain("files: [ 'fs/open.c' ], alreadyDone: false");
      const rebuild = text(nb, "rebuild");
      expect(rebuild).toContain("cached: false");
      expect(Number(/objectsCompiled: (\d+)/.exec(rebuild)?.[1])).toBeLessThan(20);
      expect(text(nb, "boot-patched")).toMatch(/kbook: cat opened \/etc\/hostname \(\d+ so far\)/);
      expect(text(nb, "kfunc")).toMatch(/\/etc\/hostname \(open \d+ by cat\)/);
      const atNew = text(nb, "gdb-new");
      expect(atNew).toMatch(/stopped \(breakpoint 1\) in kbook_note_open/);
      expect(atNew).toContain('pr_info("kbook: cat opened');
      expect(text(nb, "undo")).toContain("files: [ 'fs/open.c' ], alreadyDone: false");
    },
    minutes(40),
  );
});

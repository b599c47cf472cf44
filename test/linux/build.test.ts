/**
 * Your own kernel, for real: the learn config built from Debian's linux-source (cold on a fresh
 * checkout), booted on the Debian image with kprobes, kfunc with BTF arguments and perf, debugged
 * at source level with the kernel's gdb scripts, changed by a patch and rebuilt incrementally;
 * and every bad input refused with a clear error and nothing half-built left in the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { bootVm } from "../../lib/boot/index.js";
import { applyPatch, buildLinux, checkLinuxToolchain, LinuxBuildError, listLinuxBuilds, resolveLinuxSource, type LinuxBuild, type LinuxSource } from "../../lib/linux/index.js";
import { kernelsDir } from "../../lib/linux/store.js";
import { valueToData } from "../../lib/gdb/values.js";
import { UsageError } from "../../lib/errors/index.js";
import { ProgressReporter } from "../../lib/progress/index.js";
import { testImage, qemuPids } from "../support/images.js";
import { testLinux } from "../support/linux.js";

const run = promisify(execFile);
const CLI = resolve("dist/lib/cli/main.js");
const TEST_PATCH = resolve("test/linux/testdata/test-open.patch");

async function kernelEntries(): Promise<string[]> {
  return (await readdir(kernelsDir()).catch(() => [] as string[])).sort();
}

describe("bad input is refused before anything is built", () => {
  it("a --source that is not a kernel tree", async () => {
    const error = await buildLinux({ source: tmpdir() }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/is not a Linux source tree/);
    await expect(buildLinux({ source: "/no/such/tree" })).rejects.toThrow(/does not exist/);
  });

  it("a tree with an in-tree build, which make O= refuses", async () => {
    const tree = await mkdtemp(join(tmpdir(), "kbook-tree-"));
    try {
      await mkdir(join(tree, "arch", "x86"), { recursive: true });
      await writeFile(join(tree, "Makefile"), "VERSION = 6\nPATCHLEVEL = 9\nSUBLEVEL = 0\nEXTRAVERSION =\n");
      await writeFile(join(tree, "Kconfig"), "");
      await writeFile(join(tree, "arch", "x86", "Kconfig"), "");
      await writeFile(join(tree, ".config"), "CONFIG_X=y\n");
      const error = await buildLinux({ source: tree }).catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(/in-tree build/);
      expect(error.hint).toMatch(/mrproper/);
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });

  it("a fragment that does not parse, a malformed --set, a missing config file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kbook-frag-"));
    try {
      await writeFile(join(dir, "bad.config"), "CONFIG_KPROBES=y\nKPROBES yes\n");
      await expect(buildLinux({ fragments: [join(dir, "bad.config")] })).rejects.toThrow(/bad\.config:2: 'KPROBES yes' is not a kernel config line/);
      await expect(buildLinux({ set: ["CONFIG_KPROBES"] })).rejects.toThrow(/--set CONFIG_KPROBES: expected/);
      await expect(buildLinux({ config: join(dir, "missing.config") })).rejects.toThrow(/no such file, and not a preset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a missing toolchain piece, named with the Debian package that provides it", async () => {
    // A PATH with every tool but flex and pahole, linked from where they are.
    const bin = await mkdtemp(join(tmpdir(), "kbook-path-"));
    const saved = process.env.PATH;
    try {
      for (const tool of ["make", "gcc", "bison", "bc"]) {
        const { stdout } = await run("sh", ["-c", `command -v ${tool}`]);
        await symlink(stdout.trim(), join(bin, tool));
      }
      process.env.PATH = bin;
      const error = await checkLinuxToolchain().catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(/flex \(Debian package flex\)/);
      expect(error.message).toMatch(/pahole \(BTF\) \(Debian package dwarves\)/);
      expect(error.message).not.toMatch(/bison/);
      expect(error.hint).toMatch(/apt-get install flex dwarves/);
    } finally {
      process.env.PATH = saved;
      await rm(bin, { recursive: true, force: true });
    }
  });

  it("a disk too full for a build, naming the path and the space needed, leaving nothing", async () => {
    // A small tmpfs as the cache (needs root, as CI and image builds have).
    const mount = await mkdtemp(join(tmpdir(), "kbook-small-"));
    const mounted = await run("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", mount]).then(() => true, (e: Error) => {
      process.stderr.write(`small-disk case not run: cannot mount a tmpfs here (${e.message.split("\n")[0]})\n`);
      return false;
    });
    const saved = process.env.KBOOK_CACHE;
    try {
      if (!mounted) return;
      process.env.KBOOK_CACHE = mount;
      const error = await buildLinux().catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(new RegExp(`Not enough disk space for a kernel build in ${mount}.*GB free, about .* GB needed`));
      expect(await readdir(join(mount, "linux")).catch(() => [])).not.toContain("kernels");
    } finally {
      process.env.KBOOK_CACHE = saved;
      if (mounted) await run("umount", [mount]);
      await rm(mount, { recursive: true, force: true });
    }
  });
});

describe("the learn kernel", () => {
  let build: LinuxBuild;
  let source: LinuxSource;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    await testImage("debian");
    build = await testLinux();
    source = await resolveLinuxSource(undefined, new ProgressReporter());
    // A cold build (or the rest of the one the sequencer started in the background) takes up to
    // about 15 minutes on two cores; 30 leaves room for a slower machine.
  }, 1_800_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it("publishes the boot files, a vmlinux with DWARF, the gdb scripts and a manifest", async () => {
    for (const file of ["bzImage", "vmlinux", "System.map", "config", "vmlinux-gdb.py", "scripts/gdb/linux/tasks.py", "scripts/gdb/linux/constants.py", "manifest.json", "build.log"]) {
      expect(existsSync(join(build.dir, file)), file).toBe(true);
    }
    const config = await readFile(build.config, "utf8");
    for (const option of ["DEBUG_INFO_DWARF5", "DEBUG_INFO_BTF", "GDB_SCRIPTS", "FRAME_POINTER", "KALLSYMS_ALL", "KPROBES", "FUNCTION_GRAPH_TRACER", "BPF_JIT", "IKCONFIG", "VIRTIO_CONSOLE", "PVH", "9P_FS"]) {
      expect(config, option).toMatch(new RegExp(`^CONFIG_${option}=y$`, "m"));
    }
    expect(build.manifest).toMatchObject({ kind: "linux", name: "learn", release: expect.stringMatching(/^6\.1\.\d+/), source: { kind: "debian" } });
    expect(build.manifest.config.dropped).toEqual([]); // every learn option held
    expect(build.manifest.files.vmlinux!.bytes).toBeGreaterThan(50 << 20); // DWARF makes it big
    // The pristine Debian source is never the tree that builds (patches go to the working copy).
    expect(source.dir).not.toBe(source.pristineDir);
  });

  it("is a cache hit the second time, in seconds", async () => {
    const started = Date.now();
    const again = await testLinux();
    expect(again.cached).toBe(true);
    expect(again.dir).toBe(build.dir);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("boots on the Debian image: a command, kprobe, kfunc with BTF arguments, a tracepoint, perf", async () => {
    const vm = await bootVm({ image: "debian", linux: build });
    try {
      expect(vm.info.kernelRelease).toBe(build.manifest.release);
      expect((await vm.exec(["cat", "/proc/cmdline"])).stdout).toMatch(/nokaslr/);
      expect((await vm.exec(["ls", "/sys/kernel/btf/vmlinux"])).exitCode).toBe(0);
      const kprobe = await vm.bpftrace("kprobe:task_tick_fair { @[kstack] = count(); }", { duration: "2s" });
      expect(JSON.stringify(kprobe)).toMatch(/task_tick_fair/);
      const kfunc = await vm.exec(
        ["bpftrace", "-e", 'kfunc:do_sys_openat2 /comm == "cat"/ { printf("dfd=%d flags=%d\\n", args->dfd, args->how->flags); }', "-c", "/usr/bin/cat /etc/hostname"],
        { timeoutMs: 120_000 },
      );
      expect(kfunc.stdout).toMatch(/dfd=-100 flags=\d+/); // AT_FDCWD, read through BTF-typed args
      const tracepoint = await vm.exec(["bpftrace", "-e", 'tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { printf("tp %s\\n", str(args->filename)); }', "-c", "/usr/bin/cat /etc/hostname"], { timeoutMs: 120_000 });
      expect(tracepoint.stdout).toMatch(/tp \/etc\/hostname/);
      const profile = await vm.perf.record({ command: "dd if=/dev/zero of=/tmp/t bs=1M count=20" });
      expect(profile.folded()).toMatch(/;/);
    } finally {
      await vm.shutdown();
    }
  });

  it("debugs at source level: lines, arguments by name, the whole backtrace, structs, lx-ps", async () => {
    const vm = await bootVm({ image: "debian", linux: build, gdb: true });
    try {
      const started = Date.now();
      const g = await vm.gdb();
      const connectMs = Date.now() - started;
      expect(g.kernelSymbols).toMatchObject({ source: "vmlinux", dwarf: true });
      expect(connectMs).toBeLessThan(60_000);
      expect(await g.lx("ps")).toMatch(/\s1\s+\S+/); // pid 1 in the task list
      await g.break("do_sys_openat2", { condition: '$_streq($lx_current()->comm, "cat")' });
      await g.continue();
      const cat = vm.exec(["cat", "/etc/hostname"], { timeoutMs: 120_000 });
      let filename = "";
      let stop;
      for (let i = 0; i < 20 && filename !== "/etc/hostname"; i++) {
        stop = await g.waitForStop({ timeoutMs: 60_000 });
        filename = await g.readString("filename").catch(() => "");
        if (filename !== "/etc/hostname") await g.continue();
      }
      expect(filename).toBe("/etc/hostname");
      expect(stop!.file).toMatch(/fs\/open\.c$/);
      expect(stop!.source?.lines.find((l) => l.number === stop!.line)?.text).toBeDefined();
      expect((await g.args()).map((a) => a.name)).toEqual(expect.arrayContaining(["dfd", "filename", "how"]));
      expect((await g.args()).find((a) => a.name === "how")?.type).toBe("struct open_how *");
      const how = valueToData(await g.print("*how")) as Record<string, unknown>;
      expect(Object.keys(how)).toEqual(["flags", "mode", "resolve"]);
      expect(valueToData(await g.print("current->comm"))).toBe("cat");
      const bt = await g.backtrace();
      const names = bt.map((f) => f.function);
      expect(names.slice(0, 2)).toEqual(["do_sys_openat2", "do_sys_open"]);
      const entry = bt.find((f) => f.function === "entry_SYSCALL_64");
      expect(entry?.file).toMatch(/entry_64\.S$/);
      for (const frame of bt.slice(0, bt.indexOf(entry!) + 1)) expect(frame.line, frame.function).toBeGreaterThan(0);
      const source = await g.source({ context: 3 });
      expect(source?.lines).toHaveLength(7);
      const next = await g.next();
      expect(next.line).toBeGreaterThan(0);
      const shown = (stop as unknown as Record<symbol, () => Record<string, string>>)[Symbol.for("Jupyter.display")]!();
      expect(shown["text/html"]).toMatch(/kbook-gdb-current/);
      expect(shown["text/plain"]).toMatch(/=> +\d+/);
      await g.delete();
      await g.continue();
      expect((await cat).stdout).toBe("kbook\n");
    } finally {
      await vm.shutdown();
    }
  });

  it("refuses, before QEMU starts, a build whose config lacks what kbook needs", async () => {
    const copy = await mkdtemp(join(tmpdir(), "kbook-linux-copy-"));
    try {
      await cp(build.dir, copy, { recursive: true, filter: (p) => !p.endsWith("/vmlinux") });
      await symlink(build.vmlinux, join(copy, "vmlinux"));
      await chmod(join(copy, "config"), 0o644);
      await writeFile(join(copy, "config"), (await readFile(build.config, "utf8")).replace(/^CONFIG_VIRTIO_CONSOLE=y$/m, "# CONFIG_VIRTIO_CONSOLE is not set"));
      const before = (await qemuPids()).length;
      const error = await bootVm({ image: "debian", linux: copy }).catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(/lacks CONFIG_VIRTIO_CONSOLE=y \(kbook's command channel/);
      expect(error.hint).toMatch(/--set CONFIG_VIRTIO_CONSOLE=y/);
      expect((await qemuPids()).length).toBe(before);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it("rebuilds incrementally after a patch, and the change shows in dmesg, a kfunc probe and gdb", async () => {
    const patch = await readFile(TEST_PATCH, "utf8");
    const applied = await applyPatch(source, patch);
    let reverted = false;
    const revert = async () => {
      if (!reverted) await applyPatch(source, patch, { reverse: true });
      reverted = true;
    };
    cleanups.push(revert);
    expect(applied).toEqual({ files: ["fs/open.c"], alreadyDone: false });
    // Applying it again (a cell run twice) changes nothing and says so; a patch that fits nothing
    // is refused, naming the failed hunk, and changes nothing either.
    const patchedText = await readFile(join(source.dir, "fs", "open.c"), "utf8");
    expect(await applyPatch(source, patch)).toEqual({ files: [], alreadyDone: true });
    const misfit = "--- a/fs/open.c\n+++ b/fs/open.c\n@@ -1301,3 +1301,3 @@\n }\n-EXPORT_SYMBOL(no_such_function);\n+EXPORT_SYMBOL(another_one);\n \n";
    const refused = await applyPatch(source, misfit).catch((e) => e);
    expect(refused).toBeInstanceOf(UsageError);
    expect(refused.message).toMatch(/does not apply .*nothing was changed/);
    expect(refused.detail).toMatch(/Hunk #1 FAILED|hunk/i);
    expect(await readFile(join(source.dir, "fs", "open.c"), "utf8")).toBe(patchedText);
    const started = Date.now();
    const patched = await testLinux();
    const rebuildMs = Date.now() - started;
    expect(patched.cached).toBe(false);
    expect(patched.dir).not.toBe(build.dir);
    expect(patched.manifest.objectsCompiled).toBeLessThan(20); // fs/open.o and what the link regenerates
    process.stderr.write(`[test linux] one-file patch → bootable kernel in ${(rebuildMs / 1000).toFixed(1)} s\n`);

    const vm = await bootVm({ image: "debian", linux: patched, gdb: true });
    try {
      expect((await vm.exec(["cat", "/etc/hostname"])).stdout).toBe("kbook\n");
      expect((await vm.exec(["dmesg"])).stdout).toMatch(/kbook-test: cat opened \/etc\/hostname \(\d+ so far\)/);
      const probe = await vm.exec(["bpftrace", "-e", 'kfunc:kbook_test_open { printf("%s %d\\n", str(args->name->name), args->count); }', "-c", "/usr/bin/cat /etc/hostname"], { timeoutMs: 120_000 });
      expect(probe.stdout).toMatch(/\/etc\/hostname \d+/);
      const g = await vm.gdb();
      await g.break("kbook_test_open");
      await g.continue();
      const cat = vm.exec(["cat", "/etc/hostname"], { timeoutMs: 120_000 });
      const stop = await g.waitForStop({ timeoutMs: 60_000 });
      expect(stop.function).toBe("kbook_test_open");
      expect(stop.source?.lines.map((l) => l.text).join("\n")).toMatch(/kbook-test: cat opened/);
      expect(valueToData(await g.print("name->name"))).toMatch(/^\/|^[a-z]/);
      await g.delete();
      await g.continue();
      await cat;
    } finally {
      await vm.shutdown();
      await revert(); // the tests below build and read the unpatched source
    }
  });

  it("shows the first compiler error of a failed build with its source lines, and keeps nothing", async () => {
    const file = join(source.dir, "fs", "open.c");
    const original = await readFile(file, "utf8");
    cleanups.push(() => writeFile(file, original));
    const broken = original.replace("EXPORT_SYMBOL(file_open_root);", "EXPORT_SYMBOL(file_open_root);\nint kbook_broken(void) { return kbook_undeclared; }");
    await writeFile(file, broken);
    const before = await kernelEntries();
    const error = await testLinux().catch((e) => e);
    await writeFile(file, original);
    expect(error).toBeInstanceOf(LinuxBuildError);
    const line = broken.split("\n").findIndex((l) => l.includes("kbook_undeclared")) + 1;
    expect(error.message).toMatch(new RegExp(`fs/open\\.c:${line}: error: 'kbook_undeclared' undeclared`));
    expect(error.detail).toMatch(new RegExp(`> +${line} \\| int kbook_broken`));
    expect(error.hint).toMatch(/build\.log/);
    expect(await kernelEntries()).toEqual(before);
  });

  it("stops a build when cancelled: make's whole process group ends, nothing is kept", async () => {
    const before = await kernelEntries();
    const controller = new AbortController();
    // Another config, so make has real work to do (a new build directory).
    const building = buildLinux({
      set: ["CONFIG_IKHEADERS=y"],
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === "make" && /compiling \d+/.test(e.message ?? "")) controller.abort();
      },
    });
    const error = await building.catch((e) => e);
    expect(error.message).toMatch(/The kernel build was interrupted; nothing was kept/);
    expect(await kernelEntries()).toEqual(before);
    let left: string[] = [];
    for (let i = 0; i < 20; i++) {
      // Zombies are dead already, waiting for this container's init to reap them.
      const { stdout } = await run("ps", ["-eo", "pid=,stat=,comm="]);
      left = stdout.split("\n").filter((l) => /\s(make|cc1|ccache)$/.test(l) && !/^\s*\d+\s+Z/.test(l));
      if (!left.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(left).toEqual([]);
  });

  it("is managed from the CLI: list, path, config, boot --linux, rm", async () => {
    const env = { ...process.env };
    const list = await run("node", [CLI, "linux", "list"], { env });
    expect(list.stdout).toMatch(new RegExp(`learn-${build.manifest.key}\\s+${build.manifest.release.replace(/\./g, "\\.")}`));
    expect((await run("node", [CLI, "linux", "path", `learn-${build.manifest.key}`], { env })).stdout.trim()).toBe(build.dir);
    const config = await run("node", [CLI, "linux", "config", "--set", "CONFIG_IKHEADERS=y"], { env });
    expect(config.stdout).toMatch(/^\+ CONFIG_IKHEADERS=y$/m);
    const unknown = await run("node", [CLI, "linux", "config", "--set", "CONFIG_KPROBEZ=y"], { env }).catch((e) => e);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/CONFIG_KPROBEZ \(--set\) is not an option of this kernel; did you mean CONFIG_KPROBES/);
    expect(unknown.stderr).not.toMatch(/    at /); // no stack trace for a user mistake
    const boot = await run("node", [CLI, "boot", "--linux", `learn-${build.manifest.key}`, "--", "uname", "-r"], { env });
    expect(boot.stdout.trim()).toBe(build.manifest.release);
    const missing = await run("node", [CLI, "boot", "--linux", "no-such-build", "--", "true"], { env }).catch((e) => e);
    expect(missing.stderr).toMatch(/No kernel build named no-such-build/);
    // rm, on a copy published under another name so the other tests keep the build.
    const copy = join(kernelsDir(), `rmtest-${build.manifest.key}`);
    await cp(build.dir, copy, { recursive: true });
    await chmod(join(copy, "manifest.json"), 0o644);
    await writeFile(join(copy, "manifest.json"), JSON.stringify({ ...build.manifest, name: "rmtest" }));
    expect((await listLinuxBuilds()).map((b) => b.manifest.name)).toContain("rmtest");
    const removed = await run("node", [CLI, "linux", "rm", "rmtest"], { env });
    expect(removed.stderr).toContain(`removed ${copy}`);
    expect(existsSync(copy)).toBe(false);
    expect(existsSync(build.dir)).toBe(true);
  });

  it("kbook gdb --linux gives gdb the build's symbols, sources and gdb scripts", async () => {
    // gdb reads these commands from a pipe as it would from the terminal; quitting ends the VM.
    const child = execFile("node", [CLI, "gdb", "--linux", build.dir], { env: process.env, timeout: 300_000 });
    child.stdin!.end("help lx-ps\nlist do_sys_openat2\ninfo source\nquit\n");
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((done) => child.on("exit", done));
    expect(stderr).toMatch(/symbols: \S+\/vmlinux \(vmlinux, DWARF\)/);
    expect(stdout).toMatch(/Dump Linux tasks/); // lx-ps is defined: the scripts loaded
    expect(stdout).toMatch(/\d+\s+static long do_sys_openat2\(int dfd/); // list found fs/open.c
    expect(code).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(await qemuPids()).toEqual([]);
  });
});

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors/index.js";
import { extractDebugVmlinux } from "../../lib/gdb/debian-dbg.js";
import { kernelSections, readElfSummary } from "../../lib/gdb/elf.js";
import { kallsymsHasAddresses, parseKallsyms } from "../../lib/gdb/kallsyms.js";
import { buildSymbolElf } from "../../lib/gdb/symbol-elf.js";
import { resolveKernelSymbols } from "../../lib/gdb/symbols.js";

// kallsyms-6.1-sample: every 50th line of a Debian 6.1 guest's /proc/kallsyms (nokaslr), plus
// the symbols the tests name.
const samplePath = join(import.meta.dirname, "testdata", "kallsyms-6.1-sample");
const sample = readFileSync(samplePath, "utf8");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kbook-gdb-symbols-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Asks gdb itself what the file says (batch mode, no target); errors go to stderr, kept too. */
function gdbSays(file: string, ...commands: string[]): string {
  const run = spawnSync("gdb", ["-batch", "-nx", "-q", ...commands.flatMap((c) => ["-ex", c]), file], { encoding: "utf8" });
  return run.stdout + run.stderr;
}

function shifted(text: string, by: bigint): string {
  return text.replace(/^([0-9a-f]{16})/gm, (hex) => (hex === "0000000000000000" ? hex : (BigInt(`0x${hex}`) + by).toString(16).padStart(16, "0")));
}

describe("parseKallsyms", () => {
  it("reads addresses, types, names and modules", () => {
    const symbols = parseKallsyms(sample);
    expect(symbols.length).toBe(sample.trim().split("\n").length);
    expect(symbols.find((s) => s.name === "do_sys_openat2")).toEqual({ name: "do_sys_openat2", address: 0xffffffff81363fa0n, type: "t" });
    const modules = parseKallsyms("ffffffffc0a01000 t e1000_probe\t[e1000]\nffffffffc0a02000 T e1000_init [e1000]\n");
    expect(modules.map((s) => s.module)).toEqual(["e1000", "e1000"]);
    expect(kallsymsHasAddresses(symbols)).toBe(true);
    expect(kallsymsHasAddresses(parseKallsyms(shifted(sample, 0n).replace(/^[0-9a-f]{16}/gm, "0000000000000000")))).toBe(false);
  });
});

describe("buildSymbolElf", () => {
  it("writes an ELF gdb reads: functions and data by name, sized to the next symbol", () => {
    const file = join(dir, "sample.elf");
    writeFileSync(file, buildSymbolElf(parseKallsyms(sample + "ffffffffc0a01000 t e1000_probe\t[e1000]\n")));
    const out = gdbSays(file, "info symbol 0xffffffff81363fa4", "info address start_kernel", "info symbol 0xffffffff82161900", "info address e1000_probe", "print do_sys_openat2");
    expect(out).toContain("do_sys_openat2 + 4 in section .text");
    expect(out).toContain('Symbol "start_kernel" is at 0xffffffff83079e46');
    expect(out).toMatch(/linux_banner in section \.data/);
    // Module symbols move with every module load: left out.
    expect(out).toContain('No symbol "e1000_probe" in current context.');
    expect(out).toContain("{<text variable, no debug info>} 0xffffffff81363fa0 <do_sys_openat2>");
    const symtab = execFileSync("readelf", ["-sW", file], { encoding: "utf8" });
    const line = symtab.split("\n").find((l) => / do_sys_openat2$/.test(l))!;
    const next = parseKallsyms(sample).map((s) => s.address).filter((a) => a > 0xffffffff81363fa0n).sort((a, b) => (a < b ? -1 : 1))[0]!;
    expect(line).toMatch(new RegExp(`ffffffff81363fa0 +${Number(next - 0xffffffff81363fa0n)} FUNC +LOCAL`));
    expect(symtab).toMatch(/ffffffff83079e46 +\d+ FUNC +GLOBAL +DEFAULT +\d+ start_kernel$/m);
    expect(symtab).toMatch(/OBJECT +GLOBAL +DEFAULT +\d+ linux_banner$/m);
  });

  it("places symbols in the vmlinux's own sections when it has them", async () => {
    const first = join(dir, "runs.elf");
    writeFileSync(first, buildSymbolElf(parseKallsyms(sample)));
    const sections = kernelSections(await readElfSummary(first)).map((s) => ({ ...s, name: s.name === ".text.1" ? ".init.text" : s.name }));
    const second = join(dir, "sections.elf");
    writeFileSync(second, buildSymbolElf(parseKallsyms(sample), { sections }));
    expect(gdbSays(second, "info symbol start_kernel")).toContain("start_kernel in section .init.text");
  });
});

describe("resolveKernelSymbols", () => {
  it("builds the kallsyms ELF once, caches it by content, and finds linux_banner", async () => {
    const cacheDir = join(dir, "cache1");
    const first = await resolveKernelSymbols({ kernelPath: "/bin/true", kallsymsPath: samplePath, nokaslr: true, cacheDir });
    expect(first).toMatchObject({ source: "kallsyms", dwarf: false, stableAddresses: true, warnings: [], bannerAddress: 0xffffffff82161900n });
    expect(first.path!.startsWith(join(cacheDir, "gdb", "kallsyms-"))).toBe(true);
    const mtime = statSync(first.path!).mtimeMs;
    const again = await resolveKernelSymbols({ kernelPath: "/bin/true", kallsymsPath: samplePath, nokaslr: true, cacheDir });
    expect(again.path).toBe(first.path);
    expect(statSync(again.path!).mtimeMs).toBe(mtime);
  });

  it("moves kallsyms from a KASLR boot back to link addresses, and warns when KASLR is on", async () => {
    const slide = 0x2c000000n;
    const moved = join(dir, "kallsyms-kaslr");
    writeFileSync(moved, shifted(sample, slide));
    // A vmlinux stand-in whose .text starts at the link address, 0xffffffff81000000.
    const vmlinux = join(dir, "vmlinux-standin");
    writeFileSync(vmlinux, buildSymbolElf(parseKallsyms(sample)));
    const result = await resolveKernelSymbols({ kernelPath: vmlinux, kallsymsPath: moved, nokaslr: false, cacheDir: join(dir, "cache2") });
    expect(result.source).toBe("kallsyms");
    expect(result.stableAddresses).toBe(false);
    expect(result.warnings.some((w) => w.startsWith("KASLR is on"))).toBe(true);
    expect(result.warnings.some((w) => w.includes("moved back by 0x2c000000"))).toBe(true);
    expect(result.bannerAddress).toBe(0xffffffff82161900n);
    expect(gdbSays(result.path!, "info address do_sys_openat2")).toContain("0xffffffff81363fa0");
  });

  it("falls back when kallsyms hides addresses, and uses a user's vmlinux first", async () => {
    const hidden = join(dir, "kallsyms-hidden");
    writeFileSync(hidden, sample.replace(/^[0-9a-f]{16}/gm, "0000000000000000"));
    const none = await resolveKernelSymbols({ kernelPath: "/bin/true", kallsymsPath: hidden, cacheDir: join(dir, "cache3") });
    expect(none.source).toBe("none");
    expect(none.warnings.join("\n")).toMatch(/only zero addresses .* kptr_restrict/);

    // Any ELF with DWARF stands for a custom kernel's vmlinux here: a C program built with -g.
    const program = join(dir, "withdwarf");
    execFileSync("gcc", ["-g", "-O0", "-o", program, join(import.meta.dirname, "testdata", "target.c")]);
    const own = await resolveKernelSymbols({ kernelPath: program, kallsymsPath: samplePath, vmlinux: program, nokaslr: true, cacheDir: join(dir, "cache3") });
    expect(own).toMatchObject({ source: "vmlinux", path: program, dwarf: true, warnings: [] });
    // Symbols from another build than the kernel that boots: the build IDs differ.
    const other = await resolveKernelSymbols({ kernelPath: "/bin/sleep", vmlinux: program, nokaslr: true, cacheDir: join(dir, "cache3") });
    expect(other.warnings.join("\n")).toMatch(/is not the booted kernel \(build ID/);
    await expect(resolveKernelSymbols({ kernelPath: program, vmlinux: samplePath })).rejects.toBeInstanceOf(UsageError);
  });

  it("turns every bad --vmlinux into a usage error that says what to pass", async () => {
    const truncated = join(dir, "truncated-vmlinux");
    writeFileSync(truncated, readFileSync("/bin/true").subarray(0, 40)); // an ELF magic, then nothing
    const elf32 = join(dir, "elf32");
    const head = Buffer.from(readFileSync("/bin/true").subarray(0, 4096));
    head[4] = 1; // ELFCLASS32
    writeFileSync(elf32, head);
    for (const [vmlinux, message] of [
      [dir, /is not a file/],
      [truncated, /is a truncated ELF file/],
      [elf32, /is not a 64-bit little-endian ELF file/],
      [join(dir, "absent"), /No vmlinux at/],
    ] as const) {
      const error = await resolveKernelSymbols({ kernelPath: "/bin/true", vmlinux }).catch((e) => e);
      expect(error, String(vmlinux)).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(message);
      expect(error.hint).toMatch(/vmlinux/);
    }
  });

  it("reads the GNU build ID as readelf does", async () => {
    const readelf = execFileSync("readelf", ["-n", "/bin/sleep"], { encoding: "utf8" });
    const id = /Build ID: ([0-9a-f]+)/.exec(readelf)![1];
    expect((await readElfSummary("/bin/sleep")).buildId).toBe(id);
  });
});

describe("extractDebugVmlinux", () => {
  it("takes only the vmlinux out of a -dbg package", async () => {
    // A package laid out like linux-image-<release>-dbg, built here with dpkg-deb.
    const root = join(dir, "pkg");
    mkdirSync(join(root, "DEBIAN"), { recursive: true });
    mkdirSync(join(root, "usr/lib/debug/boot"), { recursive: true });
    mkdirSync(join(root, "usr/lib/debug/lib/modules/6.1.0-99-amd64/kernel"), { recursive: true });
    writeFileSync(
      join(root, "DEBIAN/control"),
      "Package: linux-image-6.1.0-99-amd64-dbg\nVersion: 6.1.999-1\nArchitecture: amd64\nMaintainer: kbook tests <tests@example.org>\nDescription: test package\n",
    );
    copyFileSync("/bin/true", join(root, "usr/lib/debug/boot/vmlinux-6.1.0-99-amd64"));
    writeFileSync(join(root, "usr/lib/debug/lib/modules/6.1.0-99-amd64/kernel/e1000.ko"), "module debug info");
    const deb = join(dir, "test-dbg.deb");
    execFileSync("dpkg-deb", ["--root-owner-group", "-b", root, deb], { stdio: "ignore" });
    const out = join(dir, "extracted");
    const vmlinux = await extractDebugVmlinux(deb, out);
    expect(vmlinux).toBe(join(out, "usr/lib/debug/boot/vmlinux-6.1.0-99-amd64"));
    expect(readFileSync(vmlinux)).toEqual(readFileSync("/bin/true"));
    expect(existsSync(join(out, "usr/lib/debug/lib/modules/6.1.0-99-amd64/kernel/e1000.ko"))).toBe(false);
  });
});

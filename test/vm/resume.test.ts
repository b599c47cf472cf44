/**
 * Saved states against real QEMU (TCG here): a first boot saves the booted guest, later boots
 * resume from it and are as good as a fresh boot (commands, files, perf, bpftrace, gdb, clock,
 * randomness), independent of each other (20 in a row, 4 at once), and a damaged state costs a
 * warning and a cold boot, never a failure. Nothing ever writes the base image or a state.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { chmod, copyFile, mkdtemp, open, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { bootVm, type BootOptions } from "../../lib/boot/index.js";
import { findSavedState, listSavedStates, removeSavedState, type SavedState, type Vm } from "../../lib/vm/index.js";
import { sha256File } from "../../lib/system/hash.js";
import { execa } from "execa";
import { runTool } from "../../lib/system/run.js";
import type { ProgressEvent } from "../../lib/progress/index.js";
import { qemuPids, testImage } from "../support/images.js";

/** A kernel command line word of this test's own, so its configurations have their own states. */
const MARK = `kbook.test=resume`;

/** Boots and records the progress lines. */
async function boot(options: BootOptions): Promise<{ vm: Vm; lines: string[] }> {
  const lines: string[] = [];
  const vm = await bootVm({ ...options, onProgress: (e: ProgressEvent) => lines.push(`${e.stage}: ${e.message ?? ""}`) });
  return { vm, lines };
}

async function removeStatesMarked(mark: string): Promise<void> {
  for (const state of await listSavedStates()) if (state.manifest.append.includes(mark)) await removeSavedState(state);
}

/** sha256 of every file of a saved state, by name. */
async function stateHashes(state: SavedState): Promise<Record<string, string>> {
  const names = ["manifest.json", "vmstate", "console.log", ...(state.manifest.disk ? ["disk.qcow2"] : [])];
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await sha256File(join(state.dir, n))] as const)));
}

/** Overwrites bytes of a (read-only) state file in place, as a damaged disk would. */
async function damage(path: string, offset: number, bytes: Buffer): Promise<void> {
  await chmod(path, 0o644);
  const handle = await open(path, "r+");
  await handle.write(bytes, 0, bytes.length, offset);
  await handle.close();
  await chmod(path, 0o444);
}

afterAll(async () => {
  expect(await qemuPids()).toEqual([]);
});

describe("busybox: saved once, resumed from then on", () => {
  const options: BootOptions = { image: "busybox", append: `${MARK}-busybox` };
  let key: string;
  let coldUptime: number;
  let coldRandom: string;

  beforeAll(async () => {
    await testImage("busybox");
    await removeStatesMarked(`${MARK}-busybox`);
  });

  it("boots cold the first time, saves the booted guest and says so", async () => {
    const { vm, lines } = await boot(options);
    try {
      expect(vm.startedFrom).toEqual({ kind: "cold" });
      expect(lines).toContain("boot: cold boot: no saved state yet, saving one after boot");
      expect(lines.some((l) => /^save: saved the booted guest \(\d+(\.\d)? MiB\) in \d/.test(l))).toBe(true);
      key = vm.savedStateKey!;
      expect(key).toMatch(/^busybox-[0-9a-f]{20}$/);
      const state = (await findSavedState(key))!;
      expect(state.manifest.append).toContain(`${MARK}-busybox`);
      expect(state.manifest.disk).toBeUndefined(); // an initramfs guest has no disk
      expect(state.bytes).toBeGreaterThan(10 << 20);
      // The guest runs on after the save, as if nothing happened.
      coldUptime = Number((await vm.exec(["cat", "/proc/uptime"])).stdout.split(" ")[0]);
      coldRandom = (await vm.exec("head -c 32 /dev/urandom | od -An -tx1")).stdout.replace(/\s/g, "");
      expect((await vm.exec(["echo", "after the save"])).stdout).toBe("after the save\n");
    } finally {
      await vm.shutdown();
    }
  });

  it("resumes: faster, with the boot console, the right clock and its own randomness", async () => {
    const before = await stateHashes((await findSavedState(key))!);
    const { vm, lines } = await boot(options);
    try {
      expect(vm.startedFrom).toMatchObject({ kind: "resumed", key });
      expect(lines.some((l) => /^ready: resumed from saved state in \d/.test(l))).toBe(true);
      expect(lines.some((l) => l.startsWith("boot: cold boot"))).toBe(false);
      expect(vm.consoleTail()).toContain("kbook-init"); // the saved boot's console lines
      // The wall clock is the host's, not the one saved.
      const guest = Number((await vm.exec(["date", "+%s"])).stdout);
      expect(Math.abs(guest - Date.now() / 1000)).toBeLessThan(2);
      // Uptime goes on from the saved boot's, at the host's pace.
      const up1 = Number((await vm.exec(["cat", "/proc/uptime"])).stdout.split(" ")[0]);
      const t1 = Date.now();
      await new Promise((r) => setTimeout(r, 1500));
      const up2 = Number((await vm.exec(["cat", "/proc/uptime"])).stdout.split(" ")[0]);
      expect(up1).toBeGreaterThan(coldUptime - 5);
      expect(up1).toBeLessThan(coldUptime + 60);
      expect(up2 - up1).toBeGreaterThan(((Date.now() - t1) / 1000) * 0.7);
      expect(up2 - up1).toBeLessThan(((Date.now() - t1) / 1000) * 1.5 + 0.5);
      // A guest sleep lasts as long as on the host.
      const s = Date.now();
      await vm.exec(["sleep", "1"]);
      expect(Date.now() - s).toBeGreaterThan(950);
      expect(Date.now() - s).toBeLessThan(3000);
      // The CRNG was reseeded: reads differ from the cold boot's; /dev/urandom does not block.
      const r = Date.now();
      const random = (await vm.exec("head -c 32 /dev/urandom | od -An -tx1")).stdout.replace(/\s/g, "");
      expect(Date.now() - r).toBeLessThan(800);
      expect(random).toMatch(/^[0-9a-f]{64}$/);
      expect(random).not.toBe(coldRandom);
      // The serial console still works after the resume.
      await vm.exec("echo kbook-console-after-resume > /dev/console");
      for (let i = 0; i < 50 && !vm.consoleTail().includes("kbook-console-after-resume"); i++) await new Promise((r) => setTimeout(r, 50));
      expect(vm.consoleTail()).toContain("kbook-console-after-resume");
    } finally {
      await vm.shutdown();
    }
    expect(await stateHashes((await findSavedState(key))!)).toEqual(before);
  });

  it("resumes 20 times in a row, each guest independent of the ones before", async () => {
    const before = await stateHashes((await findSavedState(key))!);
    const randoms = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const vm = await bootVm(options);
      try {
        expect(vm.startedFrom.kind).toBe("resumed");
        const r = await vm.exec(`ls /tmp; echo ${i} > /tmp/marker-${i}; head -c 16 /dev/urandom | od -An -tx1`);
        const [listing, random] = [r.stdout.split("\n").filter((l) => l.startsWith("marker-")), r.stdout.split("\n").at(-2)!];
        expect(listing).toEqual([]); // nothing left from an earlier resume
        randoms.add(random.replace(/\s/g, ""));
      } finally {
        await vm.shutdown();
      }
    }
    expect(randoms.size).toBe(20);
    expect(await stateHashes((await findSavedState(key))!)).toEqual(before);
    expect(await qemuPids()).toEqual([]);
  });

  it("boots cold when asked (cold: true), without touching the saved state", async () => {
    const before = await stateHashes((await findSavedState(key))!);
    const { vm, lines } = await boot({ ...options, cold: true });
    try {
      expect(vm.startedFrom.kind).toBe("cold");
      expect(lines).toContain("boot: cold boot: asked for a cold boot");
      expect(lines.some((l) => l.startsWith("save:"))).toBe(false);
      expect(vm.savedStateKey).toBeUndefined();
    } finally {
      await vm.shutdown();
    }
    expect(await stateHashes((await findSavedState(key))!)).toEqual(before);
  });

  it("is managed from the CLI: snapshot list, image list, boot --cold, snapshot rm", async () => {
    const kbook = (...args: string[]) => execa(process.execPath, [resolve("dist/lib/cli/main.js"), ...args], { reject: false });
    const list = await kbook("snapshot", "list");
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${key}  \\d+(\\.\\d)? MiB  busybox kernel \\S+  1024 MiB, 2 CPUs, TCG  last used `, "m"));
    expect(list.stdout).toMatch(/\d+ saved states?, .* in .*states$/m);
    expect((await kbook("image", "list")).stdout).toMatch(new RegExp(`^  saved state ${key}  `, "m"));
    const cold = await kbook("boot", "--image", "busybox", "--append", `${MARK}-busybox`, "--cold", "--", "true");
    expect(cold.exitCode).toBe(0);
    expect(cold.stderr).toContain("cold boot: asked for a cold boot");
    const state = (await findSavedState(key))!;
    const rm = await kbook("snapshot", "rm", key);
    expect(rm.stdout).toMatch(new RegExp(`^removed saved state ${key} \\(`));
    expect(await findSavedState(key)).toBeUndefined();
    expect((await kbook("snapshot", "rm", key)).stderr).toMatch(/No saved state/);
    expect((await kbook("snapshot", "rm")).stderr).toMatch(/Name the saved states to remove, or pass --all/);
    // The next boot boots cold and saves it anew.
    const again = await bootVm(options);
    expect(again.startedFrom.kind).toBe("cold");
    await again.shutdown();
    expect((await findSavedState(key))!.manifest.createdAt).not.toBe(state.manifest.createdAt);
  });

  it("a damaged or truncated state: one warning, a cold boot, and a new state in its place", async () => {
    for (const hurt of [
      async (s: SavedState) => damage(join(s.dir, "vmstate"), Math.floor(s.manifest.state.bytes / 2), randomBytes(64)),
      async (s: SavedState) => {
        await chmod(join(s.dir, "vmstate"), 0o644);
        await truncate(join(s.dir, "vmstate"), Math.floor(s.manifest.state.bytes / 3));
      },
    ]) {
      const state = (await findSavedState(key))!;
      await hurt(state);
      const { vm, lines } = await boot(options);
      try {
        expect(vm.startedFrom.kind).toBe("cold");
        const warnings = lines.filter((l) => l.includes("warning"));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(new RegExp(`saved state ${key} could not be resumed \\(.*\\); booting cold and saving a new one`));
        expect((await vm.exec(["echo", "ok"])).stdout).toBe("ok\n");
      } finally {
        await vm.shutdown();
      }
      const replaced = (await findSavedState(key))!;
      expect(replaced.manifest.createdAt).not.toBe(state.manifest.createdAt);
      expect(await sha256File(join(replaced.dir, "vmstate"))).toBe(replaced.manifest.state.sha256);
      const again = await bootVm(options);
      expect(again.startedFrom.kind).toBe("resumed");
      await again.shutdown();
    }
  });
});

describe("Debian: resumed guests do everything a booted one does", () => {
  const options: BootOptions = { image: "debian", append: `${MARK}-debian` };
  let key: string;
  let baseHash: string;
  let baseDisk: string;

  beforeAll(async () => {
    const image = await testImage("debian");
    baseDisk = join(image.dir, image.manifest.layout.disk!.file);
    baseHash = image.manifest.files[image.manifest.layout.disk!.file]!.sha256;
    await removeStatesMarked(`${MARK}-debian`);
    const vm = await bootVm(options);
    key = vm.savedStateKey!;
    await vm.shutdown();
    expect(key).toMatch(/^debian-/);
  });

  it("saves a disk that is whole: a clean qcow2 and a clean filesystem, checked offline", async () => {
    const state = (await findSavedState(key))!;
    const layer = join(state.dir, state.manifest.disk!.file);
    expect((await runTool("qemu-img", ["check", layer])).stdout).toMatch(/No errors were found/);
    const raw = join(await mkdtemp(join(tmpdir(), "kbook-fsck-")), "root.raw");
    try {
      await runTool("qemu-img", ["convert", "-O", "raw", layer, raw]);
      // -n: read-only; exit 0 means no problem found (the journal is left as it is).
      const fsck = await execa("e2fsck", ["-fn", raw], { reject: false });
      expect(fsck.exitCode, fsck.stdout + fsck.stderr).toBe(0);
    } finally {
      await rm(dirname(raw), { recursive: true, force: true });
    }
  });

  it("writes and reads back through the saved disk in every resume, each guest's writes its own", async () => {
    for (let i = 0; i < 3; i++) {
      const vm = await bootVm(options);
      try {
        expect(vm.startedFrom.kind).toBe("resumed");
        expect((await vm.exec(["ls", "/root"])).stdout).not.toContain("kbook-resume-");
        const data = randomBytes(4 << 20);
        await vm.copyIn(data, `/root/kbook-resume-${i}`);
        // From the disk, not the page cache: through this VM's overlay and the saved layer.
        await vm.exec("sync; echo 3 > /proc/sys/vm/drop_caches");
        const sum = (await vm.exec(["sha256sum", `/root/kbook-resume-${i}`])).stdout.split(" ")[0];
        expect(sum).toBe(createHash("sha256").update(data).digest("hex"));
        expect((await vm.exec(["dmesg"])).stdout).not.toMatch(/EXT4-fs error|I\/O error|Buffer I\/O/);
      } finally {
        await vm.shutdown();
      }
    }
  });

  it("runs exec, copyIn/copyOut, perf and bpftrace", async () => {
    const vm = await bootVm(options);
    try {
      expect(vm.startedFrom.kind).toBe("resumed");
      const data = randomBytes(3 << 20);
      await vm.copyIn(data, "/tmp/data.bin");
      expect(Buffer.from(await vm.copyOut("/tmp/data.bin")).equals(data)).toBe(true);
      const profile = await vm.perf.record({ command: "dd if=/dev/zero of=/tmp/test.dat bs=1024K count=100", frequency: 999 });
      expect(profile.samples, profile.folded().slice(0, 2000)).toBeGreaterThan(10);
      expect(profile.folded()).toMatch(/vfs_write|ksys_write|__x64_sys_write/);
      const result = await vm.bpftrace("kprobe:task_tick_fair { @[kstack] = count(); }", { duration: 3000 });
      const rows = result.stacks().rows;
      const shown = JSON.stringify({ run: result.run, rows: rows.slice(0, 5) });
      expect(result.run!.stopReason, shown).toBe("duration");
      expect(rows.length, shown).toBeGreaterThan(0);
      for (const row of rows) if (row.frames.length) expect(row.frames[0], shown).toMatch(/^task_tick_fair\+\d+$/);
    } finally {
      await vm.shutdown();
    }
  });

  it("gdb: a runtime breakpoint on do_sys_openat2 in a resumed guest", async () => {
    const vm = await bootVm({ ...options, gdb: true });
    try {
      expect(vm.startedFrom.kind).toBe("resumed");
      const g = await vm.gdb();
      await g.break("do_sys_openat2");
      await g.continue();
      const path = `/tmp/kbook-resume-gdb-${process.pid}`;
      const cat = vm.exec(["cat", path], { reject: false, timeoutMs: 120_000 });
      let filename = "";
      for (let i = 0; i < 200 && filename !== path; i++) {
        const stop = await g.waitForStop({ timeoutMs: 60_000 });
        expect(stop.function).toBe("do_sys_openat2");
        filename = await g.readString("$rsi").catch(() => "");
        if (filename !== path) await g.continue();
      }
      expect(filename).toBe(path);
      await g.delete();
      await g.continue();
      expect((await cat).stderr).toMatch(/No such file/);
      await g.close();
    } finally {
      await vm.shutdown();
    }
  });

  it("4 resumes at once from one state, each with its own disk", async () => {
    const vms = await Promise.all([0, 1, 2, 3].map(() => bootVm(options)));
    try {
      expect(vms.map((v) => v.startedFrom.kind)).toEqual(["resumed", "resumed", "resumed", "resumed"]);
      await Promise.all(vms.map((v, i) => v.exec(`echo vm-${i} > /root/whoami; sync`)));
      const seen = await Promise.all(vms.map((v) => v.exec(["cat", "/root/whoami"])));
      expect(seen.map((r) => r.stdout)).toEqual(["vm-0\n", "vm-1\n", "vm-2\n", "vm-3\n"]);
      const randoms = await Promise.all(vms.map((v) => v.exec("head -c 16 /dev/urandom | od -An -tx1")));
      expect(new Set(randoms.map((r) => r.stdout)).size).toBe(4);
    } finally {
      await Promise.all(vms.map((v) => v.shutdown()));
    }
  });

  it("a state from another machine: QEMU refuses it, kbook boots cold and replaces it", async () => {
    // Another configuration's stream under this key, with its manifest's hash made to match:
    // only QEMU itself can tell, and it refuses the load.
    await removeStatesMarked(`${MARK}-other`);
    const otherVm = await bootVm({ image: "busybox", memory: 512, append: `${MARK}-other` });
    const otherKey = otherVm.savedStateKey!;
    await otherVm.shutdown();
    const other = (await findSavedState(otherKey))!;
    const state = (await findSavedState(key))!;
    const stream = join(state.dir, "vmstate");
    await chmod(stream, 0o644);
    await copyFile(join(other.dir, "vmstate"), stream);
    const manifest = { ...state.manifest, state: { ...state.manifest.state, bytes: other.manifest.state.bytes, sha256: other.manifest.state.sha256 } };
    await chmod(join(state.dir, "manifest.json"), 0o644);
    await writeFile(join(state.dir, "manifest.json"), JSON.stringify(manifest));
    const started = Date.now();
    const { vm, lines } = await boot(options);
    try {
      expect(vm.startedFrom.kind).toBe("cold");
      expect(lines.filter((l) => l.includes("warning"))).toHaveLength(1);
      expect(lines.find((l) => l.includes("warning"))).toMatch(/could not load|could not be resumed/);
    } finally {
      await vm.shutdown();
    }
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((await findSavedState(key))!.manifest.createdAt).not.toBe(state.manifest.createdAt);
  });

  it("never writes the base image or a saved state", async () => {
    expect(await sha256File(baseDisk)).toBe(baseHash);
    expect((await stat(baseDisk)).mode & 0o222).toBe(0);
    for (const state of await listSavedStates()) {
      expect(await sha256File(join(state.dir, "vmstate"))).toBe(state.manifest.state.sha256);
      if (state.manifest.disk) expect(await sha256File(join(state.dir, "disk.qcow2"))).toBe(state.manifest.disk.sha256);
      expect((await stat(join(state.dir, "vmstate"))).mode & 0o222).toBe(0);
    }
  });
});

/**
 * Initramfs images from Debian's static busybox: the whole root of `busybox` images, and the
 * small initrd that disk images use to mount /dev/sda. Left uncompressed on purpose: under TCG
 * the kernel's gzip inflate of a few MB costs more than QEMU copying the bytes into guest RAM.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { buildCpio, type CpioEntry } from "../cpio/index.js";
import { KbookError } from "../errors/index.js";
import { runTool } from "../system/run.js";

/** Where Debian's busybox-static installs its binary. */
export const HOST_BUSYBOX = "/bin/busybox";

export interface InitramfsSpec {
  /** Host path of a statically linked busybox. */
  busybox: string;
  /** Contents of /init. */
  init: string;
  /** Module files in load order; copied to /modules and listed in /modules/order. */
  modules?: readonly string[];
  /** Install every busybox applet as a link in /bin (a usable guest), not just what /init needs. */
  allApplets?: boolean;
  files?: readonly CpioEntry[];
}

/** Applets the small initrd's /init uses. */
const INITRD_APPLETS = ["sh", "mount", "umount", "insmod", "switch_root", "sleep", "mkdir", "cat", "ls", "echo", "cp"];

/** True when an ELF file has no program interpreter (it is statically linked). */
export function isStaticElf(bytes: Uint8Array): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.readUInt32BE(0) !== 0x7f454c46 || view[4] !== 2) return false; // ELF64 only
  const phoff = Number(view.readBigUInt64LE(0x20));
  const phentsize = view.readUInt16LE(0x36);
  const phnum = view.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (view.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

export async function buildInitramfs(spec: InitramfsSpec): Promise<Buffer> {
  let busybox: Buffer;
  try {
    busybox = await readFile(spec.busybox);
  } catch (cause) {
    throw new KbookError(`Cannot read busybox at ${spec.busybox}.`, { hint: "Install Debian's busybox-static package ('kbook doctor --install').", cause });
  }
  if (!isStaticElf(busybox)) {
    throw new KbookError(`${spec.busybox} is not a static busybox; it cannot run inside the guest.`, {
      hint: "Install Debian's busybox-static package (it replaces the dynamic busybox).",
    });
  }
  const applets = spec.allApplets
    ? (await runTool(spec.busybox, ["--list"], { stage: "busybox --list" })).stdout.split("\n").filter((a) => a && a !== "busybox")
    : INITRD_APPLETS;
  const entries: CpioEntry[] = [];
  for (const dir of ["bin", "sbin", "dev", "proc", "sys", "tmp", "run", "root", "etc", "mnt", "modules", "newroot", "usr", "usr/bin", "usr/sbin"]) {
    entries.push({ path: dir, type: "dir", mode: dir === "tmp" ? 0o1777 : 0o755 });
  }
  entries.push({ path: "bin/busybox", type: "file", mode: 0o755, data: busybox });
  for (const applet of applets) entries.push({ path: `bin/${applet}`, type: "symlink", mode: 0o777, data: "busybox" });
  entries.push({ path: "init", type: "file", mode: 0o755, data: spec.init });
  const order: string[] = [];
  for (const modulePath of spec.modules ?? []) {
    const name = basename(modulePath);
    order.push(name);
    entries.push({ path: `modules/${name}`, type: "file", mode: 0o644, data: await readFile(modulePath) });
  }
  entries.push({ path: "modules/order", type: "file", mode: 0o644, data: order.map((n) => n + "\n").join("") });
  entries.push(...(spec.files ?? []));
  return buildCpio(entries);
}

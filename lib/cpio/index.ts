/**
 * A writer for the cpio "newc" format the kernel unpacks as an initramfs. Written here because
 * the machines kbook runs on need not have a cpio binary, and building the archive in memory
 * lets an unprivileged user set root ownership and device-free layouts without fakeroot.
 */
export interface CpioEntry {
  /** Path inside the archive, without a leading slash ("bin/busybox"). */
  path: string;
  type: "file" | "dir" | "symlink";
  /** Permission bits (e.g. 0o755). */
  mode: number;
  /** File contents, or the link target for a symlink. */
  data?: Uint8Array | string;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(length: number): number {
  return (4 - (length % 4)) % 4;
}

function header(ino: number, mode: number, nlink: number, fileSize: number, nameSize: number): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return (
    "070701" +
    [ino, mode, 0, 0, nlink, 0, fileSize, 0, 0, 0, 0, nameSize, 0].map(hex8).join("")
  );
}

/** Builds a newc archive; parent directories are not implied, list them explicitly. */
export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  const push = (buf: Buffer) => {
    chunks.push(buf);
    offset += buf.length;
  };
  const pushAligned = (buf: Buffer) => {
    push(buf);
    const p = pad4(offset);
    if (p) push(Buffer.alloc(p));
  };
  let ino = 1;
  const write = (path: string, mode: number, nlink: number, data: Buffer) => {
    const name = Buffer.from(path + "\0");
    pushAligned(Buffer.concat([Buffer.from(header(ino++, mode, nlink, data.length, name.length), "ascii"), name]));
    if (data.length) pushAligned(data);
  };
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, "");
    if (!path) throw new Error("cpio: empty path");
    const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
    const kind = entry.type === "dir" ? S_IFDIR : entry.type === "symlink" ? S_IFLNK : S_IFREG;
    write(path, kind | (entry.mode & 0o7777), entry.type === "dir" ? 2 : 1, entry.type === "dir" ? Buffer.alloc(0) : data);
  }
  write("TRAILER!!!", 0, 1, Buffer.alloc(0));
  return Buffer.concat(chunks);
}

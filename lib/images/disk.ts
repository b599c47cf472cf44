/**
 * Root disks: a raw, unpartitioned ext4 made by `mke2fs -d` straight from a directory tree, with
 * no loop devices and no mounts; the guest sees it on IDE as /dev/sda.
 */
import { chmod } from "node:fs/promises";
import { runTool } from "../system/run.js";
import { removeWorkDir } from "./workdir.js";

/** Makes `disk` from `rootfs`, removes the tree, and leaves the disk read-only. */
export async function makeRootDisk(rootfs: string, disk: string, size: string, options: { signal?: AbortSignal; sizeHint: string }): Promise<void> {
  await runTool("mke2fs", ["-q", "-t", "ext4", "-L", "kbook-root", "-E", "root_owner=0:0", "-d", rootfs, disk, size], {
    stage: "mke2fs",
    signal: options.signal,
    hint: options.sizeHint,
  });
  await removeWorkDir(rootfs);
  await chmod(disk, 0o444);
}

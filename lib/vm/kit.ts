/**
 * The guest kit: kbook's init and agent, delivered at boot as a second cpio archive appended to
 * the image's initrd (the kernel unpacks concatenated archives in order, later files winning).
 * Keeping them out of the built image means a new kbook (a fixed agent, a changed init) works
 * with images already in the cache instead of forcing a 2–3 minute Debian rebuild, and the
 * image's content depends only on its recipe.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { buildCpio, type CpioEntry } from "../cpio/index.js";
import { assetPath } from "../paths.js";
import { buildAgent } from "../agent/index.js";

/**
 * How an image takes the kit. `initramfs-root`: the initramfs is the whole root (busybox), the
 * kit's init is /init and the agent /sbin/kbook-agent. `disk-initrd`: the initrd mounts a disk
 * root; the kit's /init is kbook's small initrd init, which copies /kit/* into the root's /sbin
 * (on the VM's overlay) before switching to it.
 */
export type GuestKitMode = "initramfs-root" | "disk-initrd";

export interface GuestKit {
  cpio: Buffer;
  /** Short hash of the kit's content, for logs and cache names. */
  hash: string;
}

const kits = new Map<GuestKitMode, Promise<GuestKit>>();

export function guestKit(mode: GuestKitMode): Promise<GuestKit> {
  let kit = kits.get(mode);
  if (!kit) {
    kit = (async () => {
      const agent = await readFile(await buildAgent());
      const init = await readFile(assetPath("guest", "init.sh"));
      const entries: CpioEntry[] =
        mode === "initramfs-root"
          ? [
              { path: "sbin", type: "dir", mode: 0o755 },
              { path: "init", type: "file", mode: 0o755, data: init },
              { path: "sbin/kbook-agent", type: "file", mode: 0o755, data: agent },
            ]
          : [
              { path: "kit", type: "dir", mode: 0o755 },
              { path: "init", type: "file", mode: 0o755, data: await readFile(assetPath("guest", "initrd-init.sh")) },
              { path: "kit/kbook-init", type: "file", mode: 0o755, data: init },
              { path: "kit/kbook-agent", type: "file", mode: 0o755, data: agent },
            ];
      const cpio = buildCpio(entries);
      return { cpio, hash: createHash("sha256").update(cpio).digest("hex").slice(0, 12) };
    })();
    kits.set(mode, kit);
  }
  return kit;
}

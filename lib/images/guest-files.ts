/**
 * kbook's own files inside every guest: the init (PID 1) and the agent the host talks to.
 */
import { copyFile, chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { assetPath } from "../paths.js";
import { buildAgent } from "../agent/index.js";

/** Guest paths of kbook's files. */
export const GUEST_INIT = "/sbin/kbook-init";
export const GUEST_AGENT = "/sbin/kbook-agent";

/** Copies kbook-init and kbook-agent into a root filesystem tree. */
export async function installGuestFiles(rootfs: string): Promise<void> {
  await mkdir(join(rootfs, "sbin"), { recursive: true });
  const init = join(rootfs, GUEST_INIT);
  await copyFile(assetPath("guest", "init.sh"), init);
  await chmod(init, 0o755);
  const agent = join(rootfs, GUEST_AGENT);
  await copyFile(await buildAgent(), agent);
  await chmod(agent, 0o755);
}

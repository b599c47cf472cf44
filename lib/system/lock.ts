/**
 * Cache entries are built once however many processes ask: a lock file per entry, holding its
 * owner's pid, created with O_EXCL; a lock whose owner died is stale and taken over.
 */
import { mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { KbookError } from "../errors/index.js";
import { isAlive } from "./process.js";

/**
 * An exclusive lock on a cache entry across processes: a lock file holding the owner's pid,
 * created with O_EXCL. A lock whose owner is dead is stale and taken over.
 */
export async function acquireFileLock(path: string, what: string, onWait?: (ownerPid: number) => void, timeoutMs = 60 * 60_000): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  const started = Date.now();
  let notified = false;
  for (;;) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (!owner || !isAlive(owner)) {
      // Stale: the owner died mid-build. Its temp directory is removed by the next build.
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
      if (owner || age > 5000) {
        await unlink(path).catch(() => undefined);
        continue;
      }
    } else if (!notified) {
      onWait?.(owner);
      notified = true;
    }
    if (Date.now() - started > timeoutMs) {
      throw new KbookError(`Timed out waiting for another build of ${what} (pid ${owner}).`, { hint: `If no build is running, remove ${path}.` });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

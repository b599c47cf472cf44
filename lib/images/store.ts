/**
 * The content-addressed image cache: `$KBOOK_CACHE/images/<kind>-<hash>/`, each holding the
 * image files and a manifest. An image directory appears only by an atomic rename of a finished
 * build, so a directory with a manifest is always complete; a lock file serialises builds of
 * the same key across processes.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, readdir, rm, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { ImageLayout } from "./recipe.js";
import { KbookError } from "../errors/index.js";
import { removeWorkDir } from "./workdir.js";
import { isAlive } from "../system/process.js";

export interface ImageManifest {
  /** Manifest format version. */
  format: 1;
  key: string;
  recipe: { kind: string } & Record<string, unknown>;
  builderVersion: string;
  createdAt: string;
  buildSeconds: number;
  layout: ImageLayout;
  /** Files of the image with their sizes (apparent and allocated) and sha256. */
  files: Record<string, { bytes: number; allocatedBytes: number; sha256: string }>;
  /** Host path (relative) of the kernel symbol table, captured from the guest's /proc/kallsyms. */
  kallsyms?: string;
}

export interface StoredImage {
  dir: string;
  manifest: ImageManifest;
}

/** The cache root: $KBOOK_CACHE or ~/.cache/kbook. */
export function cacheRoot(): string {
  // Absolute, whatever the variable says: image paths end up inside qcow2 overlays as backing
  // files, which a relative path would resolve against the overlay's own directory.
  return resolve(process.env.KBOOK_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "kbook"));
}

export function imagesDir(): string {
  return join(cacheRoot(), "images");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function readManifest(dir: string): Promise<ImageManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as ImageManifest;
  } catch {
    return undefined;
  }
}

/** All complete images in the cache, newest first. */
export async function listImages(): Promise<StoredImage[]> {
  let names: string[];
  try {
    names = await readdir(imagesDir());
  } catch {
    return [];
  }
  const images: StoredImage[] = [];
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const dir = join(imagesDir(), name);
    const manifest = await readManifest(dir);
    if (manifest) images.push({ dir, manifest });
  }
  return images.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt));
}

/** A complete image directory (one with a manifest) anywhere on disk. */
export async function readImageDir(dir: string): Promise<StoredImage | undefined> {
  const manifest = await readManifest(dir);
  return manifest ? { dir, manifest } : undefined;
}

/** The image with exactly this key, if built. */
export async function findImage(key: string): Promise<StoredImage | undefined> {
  const dir = join(imagesDir(), key);
  const manifest = await readManifest(dir);
  return manifest ? { dir, manifest } : undefined;
}

/** Removes an image directory (files are read-only, so rm -rf semantics). */
export async function removeImage(image: StoredImage): Promise<void> {
  await rm(image.dir, { recursive: true, force: true });
}

/**
 * An exclusive lock on a cache key across processes: a lock file holding the owner's pid,
 * created with O_EXCL. A lock whose owner is dead is stale and taken over.
 */
export async function acquireLock(key: string, onWait?: (ownerPid: number) => void, timeoutMs = 30 * 60_000): Promise<() => Promise<void>> {
  await mkdir(imagesDir(), { recursive: true });
  const path = join(imagesDir(), `.${key}.lock`);
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
      throw new KbookError(`Timed out waiting for another build of ${key} (pid ${owner}).`, { hint: `If no build is running, remove ${path}.` });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}


/** Removes temp build directories left by builds whose process is gone. */
export async function cleanStaleBuilds(): Promise<void> {
  let names: string[];
  try {
    names = await readdir(imagesDir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.build-.*-(\d+)$/.exec(name);
    if (m && !isAlive(Number(m[1]))) await removeWorkDir(join(imagesDir(), name));
  }
}

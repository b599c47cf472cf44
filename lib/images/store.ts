/**
 * The content-addressed image cache: `$KBOOK_CACHE/images/<kind>-<hash>/`, each holding the
 * image files and a manifest. An image directory appears only by an atomic rename of a finished
 * build, so a directory with a manifest is always complete; a lock file serialises builds of
 * the same key across processes.
 */
import { readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { cacheRoot } from "../paths.js";
import type { ImageLayout } from "./recipe.js";
import { removeWorkDir } from "./workdir.js";
import { isAlive } from "../system/process.js";
import { acquireFileLock } from "../system/lock.js";
import { removeSavedStatesOf, type SavedState } from "../vm/index.js";

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

export function imagesDir(): string {
  return join(cacheRoot(), "images");
}

export { sha256File } from "../system/hash.js";

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

/**
 * Removes an image directory (files are read-only, so rm -rf semantics) and the guests saved
 * after booting it, which would have nothing under their disk layer. Returns those states.
 */
export async function removeImage(image: StoredImage): Promise<SavedState[]> {
  const states = await removeSavedStatesOf(image.dir);
  await rm(image.dir, { recursive: true, force: true });
  return states;
}

/** An exclusive lock on an image key across processes (see system/lock.ts). */
export function acquireLock(key: string, onWait?: (ownerPid: number) => void): Promise<() => Promise<void>> {
  return acquireFileLock(join(imagesDir(), `.${key}.lock`), key, onWait);
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

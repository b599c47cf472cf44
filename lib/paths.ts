/**
 * Where kbook's files are: the package root and the files shipped in assets/ (guest init
 * scripts, flame graph script/CSS…), and the cache root every built artefact lives under. Code
 * runs both from lib/ (vitest, TypeScript sources) and from dist/lib/ (the built CLI and kernel),
 * at different depths, so the package root is found by walking up to package.json.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | undefined;

/** The kbook package root (the folder holding package.json). */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, "utf8")).name === "kbook") {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("kbook: cannot find the package root (package.json)");
    dir = parent;
  }
}

/** Absolute path of a file under assets/. */
export function assetPath(...parts: string[]): string {
  return join(packageRoot(), "assets", ...parts);
}

/** The cache root: $KBOOK_CACHE or ~/.cache/kbook (images, agent builds, symbols, kernels). */
export function cacheRoot(): string {
  // Absolute, whatever the variable says: image paths end up inside qcow2 overlays as backing
  // files, which a relative path would resolve against the overlay's own directory.
  return resolve(process.env.KBOOK_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "kbook"));
}

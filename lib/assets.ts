/**
 * Locating files shipped in assets/ (guest init scripts, flame graph script/CSS…). Code runs
 * both from lib/ (vitest, TypeScript sources) and from dist/lib/ (the built CLI and kernel), at
 * different depths, so the package root is found by walking up to package.json.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
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

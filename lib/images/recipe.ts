/**
 * Recipes: typed descriptions of guest images. A recipe is normalised (every default filled in)
 * and hashed; the hash is the image's cache key, so the same recipe is built once and two
 * different recipes never share a cache entry.
 */
import { createHash } from "node:crypto";
import type { ProgressReporter } from "../progress/index.js";
import type { ImageLayout } from "../vm/image.js";

/** What a recipe's builder leaves in its work directory (described for the manifest): see vm/image.ts. */
export type { ImageLayout };

export interface BuildContext {
  /** Empty directory the builder fills; renamed into the cache only when the build succeeds. */
  workDir: string;
  /** The kbook cache root (downloads may be cached under `${cacheDir}/downloads`). */
  cacheDir: string;
  progress: ProgressReporter;
  signal?: AbortSignal;
}

/** One kind of image (debian, busybox, alpine…). */
export interface RecipeKind<R extends { kind: string }> {
  kind: R["kind"];
  /** One line for `kbook image list` and --help. */
  summary: string;
  /** Fill defaults and validate; throws UsageError on bad options. Must be deterministic. */
  normalize(options: Partial<R> & Record<string, unknown>): R;
  /** True when the build installs kbook's init and agent into the image (no boot-time kit). */
  bakesGuestKit?: boolean;
  /** Build the image into ctx.workDir and return its layout. */
  build(recipe: R, ctx: BuildContext): Promise<ImageLayout>;
}

/** JSON with sorted keys, so equal recipes hash equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The cache key of a normalised recipe. `builderVersion` covers what is not in the recipe but
 * changes the result (kbook's guest init and agent): bump it, or pass their hash, to rebuild.
 */
export function recipeKey(recipe: { kind: string }, builderVersion: string): string {
  const digest = createHash("sha256").update(canonicalJson({ recipe, builderVersion })).digest("hex");
  return `${recipe.kind}-${digest.slice(0, 16)}`;
}

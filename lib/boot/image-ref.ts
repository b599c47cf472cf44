/**
 * Turning what a user names as an image ("debian", a cache key, a directory, a recipe object)
 * into a bootable image, building it when it is not in the cache yet.
 */
import { join, resolve } from "node:path";
import type { BootableImage } from "../vm/index.js";
import { buildImage, findImage, readImageDir, type ImageManifest, type ImageSpec } from "../images/index.js";
import { UsageError } from "../errors/index.js";
import type { ProgressListener } from "../progress/index.js";

export type ImageRef = string | ImageSpec | BootableImage;

function isBootable(ref: ImageRef): ref is BootableImage {
  return typeof ref === "object" && "layout" in ref && "dir" in ref;
}

export async function resolveImage(ref: ImageRef | undefined, onProgress?: ProgressListener, signal?: AbortSignal): Promise<BootableImage> {
  if (ref !== undefined && isBootable(ref)) return ref;
  if (typeof ref === "string" && (ref.includes("/") || ref.startsWith("."))) {
    const image = await readImageDir(resolve(ref));
    if (!image) throw new UsageError(`${ref} is not a kbook image directory (no manifest.json).`, { hint: "Use 'kbook image list' to see built images." });
    return fromStored(image.dir, image.manifest);
  }
  if (typeof ref === "string" && /^[a-z]+-[0-9a-f]{16}$/.test(ref)) {
    const image = await findImage(ref);
    if (!image) throw new UsageError(`No image ${ref} in the cache.`, { hint: "Use 'kbook image list' to see built images." });
    return fromStored(image.dir, image.manifest);
  }
  const built = await buildImage(ref ?? "debian", { onProgress, signal });
  return fromStored(built.dir, built.manifest);
}

function fromStored(dir: string, manifest: ImageManifest): BootableImage {
  return {
    dir,
    layout: manifest.layout,
    kind: manifest.recipe.kind,
    kallsyms: manifest.kallsyms ? join(dir, manifest.kallsyms) : undefined,
    hashes: Object.fromEntries(Object.entries(manifest.files).map(([file, f]) => [file, f.sha256])),
  };
}

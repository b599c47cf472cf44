/**
 * One Alpine release file (the minirootfs tarball, an ISO) found on the mirror and downloaded
 * into the checksum cache, with progress: the first step of both build methods.
 */
import type { BuildContext } from "../recipe.js";
import { cachedDownload, fetchText } from "./download.js";
import { resolveReleaseFile, type ResolvedReleaseFile } from "./mirror.js";
import type { AlpineRecipe } from "./options.js";

export async function downloadReleaseFile(
  recipe: Pick<AlpineRecipe, "mirror" | "release" | "arch">,
  flavor: string,
  ctx: Pick<BuildContext, "cacheDir" | "progress" | "signal">,
): Promise<{ release: ResolvedReleaseFile; path: string; cached: boolean }> {
  const { progress, signal } = ctx;
  const release = await resolveReleaseFile({
    mirror: recipe.mirror,
    release: recipe.release,
    arch: recipe.arch,
    flavor,
    fetchText: (url) => fetchText(url, signal),
  });
  const file = await cachedDownload({
    cacheDir: ctx.cacheDir,
    url: release.url,
    sha256: release.sha256,
    signal,
    onProgress: (p) => progress.report("download", `${p.name} ${(p.received / 1e6).toFixed(1)} MB`, p.total ? { fraction: p.received / p.total } : {}),
  });
  return { release, ...file };
}

/**
 * The image build pipeline shared by every recipe: cache lookup, lock, build in a temporary
 * directory, one boot of the new image to capture its kernel symbols (and prove it boots),
 * manifest with sha256s, then an atomic rename into the cache. A build that fails or is
 * interrupted leaves nothing a later boot could pick up.
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, readdir, rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BuildContext, ImageLayout, RecipeKind } from "./recipe.js";
import { recipeKey } from "./recipe.js";
import { acquireLock, cleanStaleBuilds, findImage, imagesDir, sha256File, type ImageManifest, type StoredImage } from "./store.js";
import { formatBytes, ProgressReporter, type ProgressListener } from "../progress/index.js";
import { KbookError, UsageError } from "../errors/index.js";
import { assetPath, cacheRoot } from "../paths.js";
import { recipeKinds } from "./recipes.js";
import { removeWorkDir } from "./workdir.js";

/** Bump when the build pipeline changes what it produces. */
const PIPELINE_REVISION = "2";

export interface ImageSpec {
  /** Recipe kind: "debian" (default), "busybox", "alpine". */
  kind?: string;
  [option: string]: unknown;
}

export interface BuildOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Rebuild even when the cache has the image. */
  force?: boolean;
}

/** Roughly what a build of each recipe writes into the cache at its peak (measured here). */
const SPACE_NEEDED: Record<string, number> = { debian: 3 << 30, busybox: 256 << 20, alpine: 1 << 30 };

/** A failure because a disk filled up: ENOSPC itself, or a tool that said so on stderr. */
function isNoSpace(error: unknown): boolean {
  for (let e = error as { code?: string; message?: string; detail?: string; stderrTail?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "ENOSPC") return true;
    if (/No space left on device/.test(`${e.message ?? ""} ${e.detail ?? ""} ${e.stderrTail ?? ""}`)) return true;
  }
  return false;
}

/** Looks up a recipe kind, or throws a UsageError listing the known ones. */
export function recipeKind(kind: string): RecipeKind<{ kind: string }> {
  const found = recipeKinds().find((r) => r.kind === kind);
  if (!found) {
    throw new UsageError(`Unknown image recipe '${kind}'.`, { hint: `Known recipes: ${recipeKinds().map((r) => r.kind).join(", ")}.` });
  }
  return found;
}

/**
 * What, beyond the recipe, shapes an image: the pipeline revision, and for recipes that bake
 * kbook's init and agent into the image, those files (others get them at boot, see kit.ts).
 */
export async function builderVersion(kind: RecipeKind<{ kind: string }>): Promise<string> {
  const hash = createHash("sha256").update(PIPELINE_REVISION);
  if (kind.bakesGuestKit) for (const file of ["init.sh", "initrd-init.sh", "agent.c"]) hash.update(await readFile(assetPath("guest", file)));
  return hash.digest("hex").slice(0, 12);
}

/** The normalised recipe and cache key for a spec, without building anything. */
export async function resolveImageSpec(spec: ImageSpec | string = {}): Promise<{ recipe: { kind: string }; key: string }> {
  const options = typeof spec === "string" ? { kind: spec } : spec;
  const kind = recipeKind(options.kind ?? "debian");
  const recipe = kind.normalize(options);
  return { recipe, key: recipeKey(recipe, await builderVersion(kind)) };
}

/** Builds an image, or returns the cached one. */
export async function buildImage(spec: ImageSpec | string = {}, options: BuildOptions = {}): Promise<StoredImage & { cached: boolean }> {
  const progress = new ProgressReporter(options.onProgress);
  const { recipe, key } = await resolveImageSpec(spec);
  if (!options.force) {
    const hit = await findImage(key);
    if (hit) {
      progress.report("cached", `${key} is in the cache`, { done: true });
      return { ...hit, cached: true };
    }
  }
  const release = await acquireLock(key, (pid) => progress.report("waiting", `another build of ${key} is running (pid ${pid})`));
  const workDir = join(imagesDir(), `.build-${key}-${process.pid}`);
  try {
    if (!options.force) {
      const hit = await findImage(key);
      if (hit) return { ...hit, cached: true };
    }
    await cleanStaleBuilds();
    await removeWorkDir(workDir);
    await mkdir(workDir, { recursive: true });
    const ctx: BuildContext = { workDir, cacheDir: cacheRoot(), progress, signal: options.signal };
    const layout = await recipeKind(recipe.kind).build(recipe, ctx);
    options.signal?.throwIfAborted();

    progress.report("symbols", "booting the image once to read /proc/kallsyms");
    const probe = await probeImage(workDir, layout, recipe.kind, options.signal);
    await writeFile(join(workDir, "kallsyms"), probe.kallsyms);
    Object.assign(layout.versions, probe.versions);

    progress.report("manifest", "hashing image files");
    const files: ImageManifest["files"] = {};
    for (const name of (await readdir(workDir)).sort()) {
      const path = join(workDir, name);
      const st = await stat(path);
      if (!st.isFile()) continue;
      files[name] = { bytes: st.size, allocatedBytes: st.blocks * 512, sha256: await sha256File(path) };
      // Base images are never written: QEMU boots them through a qcow2 overlay, and the
      // read-only mode turns any mistake into an error instead of a corrupted cache.
      await chmod(path, 0o444);
    }
    const manifest: ImageManifest = {
      format: 1,
      key,
      recipe: recipe as ImageManifest["recipe"],
      builderVersion: await builderVersion(recipeKind(recipe.kind)),
      createdAt: new Date().toISOString(),
      buildSeconds: Math.round(progress.elapsed() / 100) / 10,
      layout,
      files,
      kallsyms: "kallsyms",
    };
    await writeFile(join(workDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    const finalDir = join(imagesDir(), key);
    if (options.force) await rm(finalDir, { recursive: true, force: true });
    await rename(workDir, finalDir);
    progress.report("done", `${key} built`, { done: true });
    return { dir: finalDir, manifest, cached: false };
  } catch (error) {
    // KBOOK_KEEP_FAILED=1 keeps a failed build's directory for a post-mortem.
    if (!process.env.KBOOK_KEEP_FAILED) await removeWorkDir(workDir).catch(() => undefined);
    if (options.signal?.aborted) throw new KbookError(`Building the ${recipe.kind} image was interrupted; nothing was kept.`, { cause: error });
    if (isNoSpace(error)) {
      const fs = await statfs(imagesDir()).catch(() => undefined);
      const free = fs ? ` (${formatBytes(fs.bavail * fs.bsize)} free after removing the partial build)` : "";
      throw new KbookError(`The disk under ${imagesDir()} filled up while building the ${recipe.kind} image${free}; nothing was kept.`, {
        hint: `A ${recipe.kind} image needs about ${formatBytes(SPACE_NEEDED[recipe.kind] ?? 1 << 30)} there while it builds: free some space, or set KBOOK_CACHE to a larger disk.`,
        cause: error,
      });
    }
    if (error instanceof KbookError) throw error;
    throw new KbookError(`Building the ${recipe.kind} image failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await release();
  }
}

/** Boots a freshly built image and reads what only the running guest knows. */
async function probeImage(dir: string, layout: ImageLayout, kind: string, signal?: AbortSignal): Promise<{ kallsyms: string; versions: Record<string, string> }> {
  const { startVm } = await import("../vm/index.js");
  // Cold: a state saved here would point at this work directory, which is renamed next.
  const vm = await startVm({ image: { dir, layout, kind }, signal, cold: true });
  try {
    const uname = (await vm.exec(["uname", "-r"])).stdout.trim();
    if (uname !== layout.kernelRelease) {
      throw new KbookError(`The built image runs kernel ${uname}, expected ${layout.kernelRelease}.`);
    }
    const kallsyms = Buffer.from(await vm.copyOut("/proc/kallsyms")).toString();
    // Per-cpu symbols sit at 0 legitimately; _text at 0 means kptr_restrict hid the addresses.
    if (!/^(?!0{16})[0-9a-f]{16} T _text$/m.test(kallsyms)) {
      throw new KbookError("The guest's /proc/kallsyms hides addresses (kptr_restrict) or has no text symbols.");
    }
    const versions: Record<string, string> = {};
    for (const [name, argv] of [
      ["perf", ["perf", "--version"]],
      ["bpftrace", ["bpftrace", "--version"]],
    ] as const) {
      const r = await vm.exec([...argv], { reject: false, timeoutMs: 20_000 });
      if (r.exitCode === 0) versions[name] = r.stdout.trim().replace(/^(perf version|bpftrace)\s*/, "");
    }
    return { kallsyms, versions };
  } finally {
    await vm.shutdown();
  }
}

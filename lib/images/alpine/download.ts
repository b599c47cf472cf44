/**
 * Downloads from an Alpine mirror into kbook's cache: progress, resume after a dropped
 * connection (HTTP Range, guarded by If-Range so a changed file restarts cleanly), and a cache
 * that only ever holds verified, complete files. A download goes to `downloads/.partial/`,
 * is verified there (sha256 or the caller's signature check) and only then renamed into place;
 * rename(2) within one filesystem is atomic, so a reader sees the whole file or none.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { KbookError } from "../../errors/index.js";
import { HttpStatusError, IntegrityError, MirrorUnreachableError } from "./errors.js";

export interface DownloadProgress {
  name: string;
  received: number;
  total?: number;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** How many times a dropped transfer is resumed before giving up (default 4). */
  retries?: number;
}

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } })?.cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? (error as { code?: string })?.code;
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || (error as { name?: string })?.name === "AbortError";
}

function interrupted(url: string): KbookError {
  return new KbookError(`The download of ${url} was interrupted.`, { hint: "Run the build again: the download resumes where it stopped." });
}

/** GET that turns "no answer" into MirrorUnreachableError. */
async function request(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { headers, signal, redirect: "follow" });
  } catch (error) {
    if (isAbort(error, signal)) throw interrupted(url);
    const code = errorCode(error);
    throw new MirrorUnreachableError(url, code, error);
  }
}

/** A small text file (release list, checksum, directory listing). Not cached: mirrors update them. */
export async function fetchText(url: string, signal?: AbortSignal): Promise<string> {
  const response = await request(url, {}, signal);
  if (!response.ok) throw new HttpStatusError(url, response.status, response.statusText);
  return await response.text();
}

/** A small binary file (APKINDEX.tar.gz). */
export async function fetchBytes(url: string, signal?: AbortSignal): Promise<Buffer> {
  const response = await request(url, {}, signal);
  if (!response.ok) throw new HttpStatusError(url, response.status, response.statusText);
  return Buffer.from(await response.arrayBuffer());
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

interface PartialMeta {
  url: string;
  /** ETag or Last-Modified of the response the partial bytes came from. */
  validator?: string;
  total?: number;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Fetches `url` into `partPath`, resuming from its current size when `metaPath` says the bytes
 * came from the same URL. Retries a transfer cut mid-way (`retries` times) with a Range request.
 */
export async function downloadResumable(url: string, partPath: string, metaPath: string, options: DownloadOptions = {}): Promise<void> {
  const name = basename(new URL(url).pathname);
  let meta: PartialMeta | undefined;
  try {
    meta = JSON.parse(await readFile(metaPath, "utf8")) as PartialMeta;
  } catch {
    meta = undefined;
  }
  let offset = meta?.url === url ? await sizeOf(partPath) : 0;
  if (offset === 0) await rm(partPath, { force: true });
  const retries = options.retries ?? 4;
  let lastReport = 0;

  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = {};
    if (offset > 0) {
      headers.Range = `bytes=${offset}-`;
      if (meta?.validator) headers["If-Range"] = meta.validator;
    }
    let response: Response;
    try {
      response = await request(url, headers, options.signal);
    } catch (error) {
      // A mirror that answered before and now does not is a dropped transfer, worth a retry.
      if (error instanceof MirrorUnreachableError && offset > 0 && attempt < retries) {
        await delay(200 * (attempt + 1), url, options.signal);
        continue;
      }
      throw error;
    }
    if (response.status === 416) {
      // Our partial file is not a prefix the server recognises: start over.
      await response.body?.cancel();
      offset = 0;
      await rm(partPath, { force: true });
      if (attempt < retries) continue;
    }
    if (!response.ok) throw new HttpStatusError(url, response.status, response.statusText);

    let total: number | undefined;
    const length = Number(response.headers.get("content-length") ?? NaN);
    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
      if (!range || Number(range[1]) !== offset) {
        await response.body?.cancel();
        offset = 0;
        await rm(partPath, { force: true });
        continue;
      }
      total = range[3] === "*" ? undefined : Number(range[3]);
    } else {
      // 200: the server ignored the Range (or the file changed, per If-Range): restart.
      offset = 0;
      await rm(partPath, { force: true });
      total = Number.isFinite(length) ? length : undefined;
    }
    meta = { url, validator: response.headers.get("etag") ?? response.headers.get("last-modified") ?? undefined, total };
    await writeFile(metaPath, JSON.stringify(meta));

    let received = offset;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        const now = Date.now();
        if (options.onProgress && now - lastReport >= 200) {
          lastReport = now;
          options.onProgress({ name, received, total });
        }
        callback(null, chunk);
      },
    });
    try {
      if (!response.body) throw new Error("empty response body");
      await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), counter, createWriteStream(partPath, { flags: "a" }));
    } catch (error) {
      if (isAbort(error, options.signal)) throw interrupted(url);
      offset = await sizeOf(partPath);
      if (attempt >= retries) {
        throw new KbookError(`The download of ${url} broke off at ${offset} bytes, ${retries + 1} times.`, {
          hint: "Run the build again to resume, or try another --mirror.",
          cause: error,
        });
      }
      await delay(200 * (attempt + 1), url, options.signal);
      continue;
    }
    offset = await sizeOf(partPath);
    if (total !== undefined && offset < total) {
      if (attempt >= retries) throw new KbookError(`The download of ${url} stopped at ${offset} of ${total} bytes.`, { hint: "Run the build again to resume." });
      continue;
    }
    options.onProgress?.({ name, received: offset, total: total ?? offset });
    return;
  }
}

function delay(ms: number, url: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interrupted(url));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(interrupted(url))), { once: true });
  });
}

export interface CachedDownloadOptions extends DownloadOptions {
  /** kbook's cache root; files land under `${cacheDir}/downloads/`. */
  cacheDir: string;
  url: string;
  /** Expected sha256 (hex): the cache key, checked before the file enters the cache. */
  sha256?: string;
  /**
   * Check run on the complete temporary file before it enters the cache (a signature check).
   * Throwing deletes the file. Required when no sha256 is known.
   */
  verify?: (path: string) => Promise<void>;
}

/** Where a verified download lives in the cache. */
export function cachePathFor(cacheDir: string, url: string, sha256?: string): string {
  const name = basename(new URL(url).pathname);
  if (sha256) return join(cacheDir, "downloads", "sha256", sha256, name);
  // Files without a published checksum are named by URL; Alpine's package files carry their
  // version in the name and are never replaced in place, and they are signature-checked on entry.
  const urlKey = createHash("sha256").update(url).digest("hex").slice(0, 20);
  return join(cacheDir, "downloads", "url", urlKey, name);
}

/**
 * The cached path of `url`, downloading and verifying it first if needed. A cache hit costs a
 * stat(2). A failed check deletes the download and throws IntegrityError.
 */
export async function cachedDownload(options: CachedDownloadOptions): Promise<{ path: string; cached: boolean }> {
  const { cacheDir, url } = options;
  const sha256 = options.sha256?.toLowerCase();
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw new KbookError(`'${options.sha256}' is not a sha256 checksum (for ${url}).`);
  if (!sha256 && !options.verify) throw new Error("cachedDownload needs a sha256 or a verify function");
  const finalPath = cachePathFor(cacheDir, url, sha256);
  if ((await sizeOf(finalPath)) > 0) return { path: finalPath, cached: true };

  const partialDir = join(cacheDir, "downloads", ".partial");
  await mkdir(partialDir, { recursive: true });
  const key = createHash("sha256").update(`${url}\n${sha256 ?? ""}`).digest("hex").slice(0, 24);
  const partPath = join(partialDir, `${key}.part`);
  const metaPath = join(partialDir, `${key}.json`);
  await downloadResumable(url, partPath, metaPath, options);

  const name = basename(finalPath);
  try {
    if (sha256) {
      const actual = await sha256File(partPath);
      if (actual !== sha256) {
        throw new IntegrityError(name, "sha256", `Refusing ${name} from ${url}: its sha256 is ${actual}, but the mirror publishes ${sha256}; the file was deleted.`, {
          hint: "The mirror may be mid-sync or the transfer corrupted: run the build again later or pass another --mirror.",
        });
      }
    }
    await options.verify?.(partPath);
  } catch (error) {
    await rm(partPath, { force: true });
    await rm(metaPath, { force: true });
    throw error;
  }
  await mkdir(join(finalPath, ".."), { recursive: true });
  await rename(partPath, finalPath);
  await rm(metaPath, { force: true });
  return { path: finalPath, cached: false };
}

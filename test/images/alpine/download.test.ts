/**
 * Integration: the downloader, release resolution and apk.static verification against a local
 * fixture mirror on 127.0.0.1 (fixture-mirror.ts), including every failure the issue lists.
 */
import { createHash, createPublicKey, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fetchApkStatic } from "../../../lib/images/alpine/apk-static.js";
import type { TrustedKeys } from "../../../lib/images/alpine/apk-format.js";
import { cachedDownload, cachePathFor, fetchText, type DownloadProgress } from "../../../lib/images/alpine/download.js";
import { IntegrityError, MirrorUnreachableError, ReleaseNotFoundError } from "../../../lib/images/alpine/errors.js";
import { resolveReleaseFile } from "../../../lib/images/alpine/mirror.js";
import { buildApk, buildApkIndex, generateRsaKey, tar } from "./apk-fixtures.js";
import { FixtureMirror } from "./fixture-mirror.js";

const KEY = "kbook-fixture-6abc1234.rsa.pub";
const signer = generateRsaKey();
const keys: TrustedKeys = new Map([[KEY, createPublicKey(signer.publicPem)]]);
const mirror = new FixtureMirror();
let M = "";

// A real minirootfs-shaped tarball, 1.5 MB of incompressible content so transfers take chunks.
const tarball = gzipSync(tar([{ name: "etc/alpine-release", data: "3.21.2\n" }, { name: "bin/blob", data: randomBytes(1_500_000) }], true), { level: 1 });
const tarballSha = createHash("sha256").update(tarball).digest("hex");
const FILE = "alpine-minirootfs-3.21.2-x86_64.tar.gz";
const REL = "/alpine/v3.21/releases/x86_64";
const apkStaticBinary = randomBytes(200_000);

function serveRelease(): void {
  mirror.files.clear();
  mirror.set("/alpine/", `<html><body><pre><a href="../">../</a>\n<a href="edge/">edge/</a>\n<a href="latest-stable/">latest-stable/</a>\n<a href="v3.20/">v3.20/</a>\n<a href="v3.21/">v3.21/</a>\n</pre></body></html>`);
  const yaml = `---\n-\n  title: "Mini root filesystem"\n  flavor: alpine-minirootfs\n  arch: x86_64\n  version: 3.21.2\n  file: ${FILE}\n  size: ${tarball.length}\n  sha256: ${tarballSha}\n`;
  for (const branch of ["v3.21", "latest-stable"]) {
    mirror.set(`/alpine/${branch}/releases/x86_64/latest-releases.yaml`, yaml);
    mirror.set(`/alpine/${branch}/releases/x86_64/${FILE}`, tarball);
    mirror.set(`/alpine/${branch}/releases/x86_64/${FILE}.sha256`, `${tarballSha}  ${FILE}\n`);
  }
  const pkg = buildApk({ name: "apk-tools-static", version: "2.14.6-r3", files: [{ name: "sbin/apk.static", data: apkStaticBinary, mode: 0o755 }], key: signer.privateKey, keyName: KEY });
  mirror.set("/alpine/v3.21/main/x86_64/APKINDEX.tar.gz", buildApkIndex([{ P: "apk-tools-static", V: "2.14.6-r3", C: pkg.identity }], signer.privateKey, KEY));
  mirror.set("/alpine/v3.21/main/x86_64/apk-tools-static-2.14.6-r3.apk", pkg.bytes);
}

beforeAll(async () => {
  M = `${await mirror.start()}/alpine`;
});
afterAll(() => mirror.stop());
beforeEach(() => {
  serveRelease();
  mirror.requests.length = 0;
});

const newCache = () => mkdtempSync(join(tmpdir(), "kbook-cache-"));
const partials = (cache: string) => (existsSync(join(cache, "downloads", ".partial")) ? readdirSync(join(cache, "downloads", ".partial")) : []);

describe("download from the fixture mirror", () => {
  it("resolves, downloads with progress, verifies, caches by sha256; the second time is a cache hit", async () => {
    const cacheDir = newCache();
    const release = await resolveReleaseFile({ mirror: M, release: "latest-stable", arch: "x86_64", flavor: "alpine-minirootfs", fetchText: (u) => fetchText(u) });
    expect(release).toMatchObject({ version: "3.21.2", branch: "v3.21", sha256: tarballSha });
    const events: DownloadProgress[] = [];
    const first = await cachedDownload({ cacheDir, url: release.url, sha256: release.sha256, onProgress: (p) => events.push(p) });
    expect(first.cached).toBe(false);
    expect(first.path).toBe(join(cacheDir, "downloads", "sha256", tarballSha, FILE));
    expect(readFileSync(first.path).equals(tarball)).toBe(true);
    expect(events.at(-1)).toEqual({ name: FILE, received: tarball.length, total: tarball.length });
    expect(events.every((e, i) => i === 0 || e.received >= events[i - 1]!.received)).toBe(true);
    expect(partials(cacheDir)).toEqual([]);

    const before = mirror.requests.length;
    const second = await cachedDownload({ cacheDir, url: release.url, sha256: release.sha256 });
    expect(second).toEqual({ path: first.path, cached: true });
    expect(mirror.requests.length).toBe(before);
  });

  it("resumes with a Range request when the server drops the connection mid-file", async () => {
    const cacheDir = newCache();
    mirror.set(`${REL}/${FILE}`, tarball, { dropAfter: 400_000, dropTimes: 2 });
    const { path } = await cachedDownload({ cacheDir, url: `${M}/v3.21/releases/x86_64/${FILE}`, sha256: tarballSha });
    expect(createHash("sha256").update(readFileSync(path)).digest("hex")).toBe(tarballSha);
    const asked = mirror.requestsFor(`${REL}/${FILE}`);
    // Each retry asks for the rest from what had arrived (at most the 400 kB the server sent;
    // a reset can discard bytes still in flight, so not exactly 400 kB).
    expect(asked).toHaveLength(3);
    expect(asked[0]!.range).toBeUndefined();
    const starts = asked.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? "")?.[1]));
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[0]).toBeLessThanOrEqual(400_000);
    expect(starts[1]! - starts[0]!).toBeGreaterThan(0);
    expect(starts[1]! - starts[0]!).toBeLessThanOrEqual(400_000);
    expect(asked[1]!.ifRange).toMatch(/^"[0-9a-f]+"$/);
  });

  it("an interrupted download leaves nothing in the cache and resumes on the next run", async () => {
    const cacheDir = newCache();
    mirror.set(`${REL}/${FILE}`, tarball, { trickleMs: 15 });
    const controller = new AbortController();
    const url = `${M}/v3.21/releases/x86_64/${FILE}`;
    const run = cachedDownload({ cacheDir, url, sha256: tarballSha, signal: controller.signal, onProgress: (p) => p.received > 300_000 && controller.abort() });
    await expect(run).rejects.toThrow(/was interrupted/);
    expect(existsSync(cachePathFor(cacheDir, url, tarballSha))).toBe(false);
    expect(partials(cacheDir).some((n) => n.endsWith(".part"))).toBe(true);

    mirror.set(`${REL}/${FILE}`, tarball);
    const { path } = await cachedDownload({ cacheDir, url, sha256: tarballSha });
    expect(readFileSync(path).equals(tarball)).toBe(true);
    const resumed = mirror.requestsFor(`${REL}/${FILE}`).at(-1)!;
    expect(Number(/^bytes=(\d+)-$/.exec(resumed.range ?? "")?.[1])).toBeGreaterThan(300_000);
    expect(partials(cacheDir)).toEqual([]);
  });

  it("restarts cleanly when the server ignores Range, or the file changed (If-Range)", async () => {
    const cacheDir = newCache();
    mirror.set(`${REL}/${FILE}`, tarball, { dropAfter: 500_000, ignoreRange: true });
    const { path } = await cachedDownload({ cacheDir, url: `${M}/v3.21/releases/x86_64/${FILE}`, sha256: tarballSha });
    expect(readFileSync(path).equals(tarball)).toBe(true);
    const ranges = mirror.requestsFor(`${REL}/${FILE}`).map((r) => r.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);

    // A partial file from an older copy: the server's ETag no longer matches If-Range, so it
    // sends the whole new file, which replaces the partial bytes.
    const cache2 = newCache();
    const url = `${M}/v3.21/releases/x86_64/${FILE}`;
    mirror.set(`${REL}/${FILE}`, tarball, { dropAfter: 300_000, dropTimes: 1 });
    await expect(cachedDownload({ cacheDir: cache2, url, sha256: tarballSha, retries: 0 })).rejects.toThrow(/broke off at \d+ bytes/);
    const updated = Buffer.concat([tarball, Buffer.from("new build")]);
    const updatedSha = createHash("sha256").update(updated).digest("hex");
    mirror.set(`${REL}/${FILE}`, updated);
    const fresh = await cachedDownload({ cacheDir: cache2, url, sha256: tarballSha }).catch((e) => e);
    // Same partial key only for the same expected checksum: ask for the old sha, get a mismatch…
    expect(fresh).toBeInstanceOf(IntegrityError);
    const last = mirror.requestsFor(`${REL}/${FILE}`).at(-1)!;
    expect(last.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(last.ifRange).toBeDefined();
    // …and the published new checksum downloads cleanly.
    expect(readFileSync((await cachedDownload({ cacheDir: cache2, url, sha256: updatedSha })).path).equals(updated)).toBe(true);
  });

  it("refuses and deletes a file whose sha256 does not match what the mirror publishes", async () => {
    const cacheDir = newCache();
    const corrupt = Buffer.from(tarball);
    corrupt[1000] ^= 0xff;
    mirror.set(`${REL}/${FILE}`, corrupt);
    const url = `${M}/v3.21/releases/x86_64/${FILE}`;
    const error = await cachedDownload({ cacheDir, url, sha256: tarballSha }).catch((e) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.check).toBe("sha256");
    expect(error.message).toBe(
      `Refusing ${FILE} from ${url}: its sha256 is ${createHash("sha256").update(corrupt).digest("hex")}, but the mirror publishes ${tarballSha}; the file was deleted.`,
    );
    expect(existsSync(cachePathFor(cacheDir, url, tarballSha))).toBe(false);
    expect(partials(cacheDir)).toEqual([]);
  });

  it("a release the mirror lacks (404) lists the releases it has", async () => {
    const error = await resolveReleaseFile({ mirror: M, release: "3.18", arch: "x86_64", flavor: "alpine-minirootfs", fetchText: (u) => fetchText(u) }).catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseNotFoundError);
    expect(error.message).toBe(`Alpine release '3.18' is not on the mirror ${M}.`);
    expect(error.hint).toBe("The mirror lists: latest-stable, edge, 3.21, 3.20.");
  });

  it("an unreachable mirror is one sentence naming the URL and the offline debian recipe", async () => {
    const closed = new FixtureMirror();
    const base = await closed.start();
    await closed.stop();
    const url = `${base}/alpine/latest-stable/releases/x86_64/latest-releases.yaml`;
    const error = await fetchText(url).catch((e) => e);
    expect(error).toBeInstanceOf(MirrorUnreachableError);
    expect(error.message).toBe(`Cannot reach the Alpine mirror at ${url} (ECONNREFUSED); build the offline 'debian' recipe instead, or pass --mirror with an Alpine mirror this machine can reach.`);
  });
});

describe("apk.static from the fixture mirror", () => {
  it("verifies the index and the package, extracts apk.static, caches the package", async () => {
    const cacheDir = newCache();
    const destDir = mkdtempSync(join(tmpdir(), "kbook-apk-"));
    const result = await fetchApkStatic({ mirror: M, branch: "v3.21", arch: "x86_64", keys, cacheDir, destDir });
    expect(result).toMatchObject({ version: "2.14.6-r3", signer: KEY, path: join(destDir, "apk.static") });
    expect(readFileSync(result.path).equals(apkStaticBinary)).toBe(true);
    const apkUrl = `${M}/v3.21/main/x86_64/apk-tools-static-2.14.6-r3.apk`;
    expect(existsSync(cachePathFor(cacheDir, apkUrl))).toBe(true);
    await fetchApkStatic({ mirror: M, branch: "v3.21", arch: "x86_64", keys, cacheDir, destDir });
    expect(mirror.requestsFor("/alpine/v3.21/main/x86_64/apk-tools-static-2.14.6-r3.apk")).toHaveLength(1);
  });

  it("refuses a package that is not the one the signed index names, and keeps it out of the cache", async () => {
    const cacheDir = newCache();
    const other = buildApk({ name: "apk-tools-static", version: "2.14.6-r3", files: [{ name: "sbin/apk.static", data: "different" }], key: signer.privateKey, keyName: KEY });
    mirror.set("/alpine/v3.21/main/x86_64/apk-tools-static-2.14.6-r3.apk", other.bytes);
    const error = await fetchApkStatic({ mirror: M, branch: "v3.21", arch: "x86_64", keys, cacheDir, destDir: newCache() }).catch((e) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toMatch(/^Refusing apk-tools-static-2\.14\.6-r3\.apk: it is not the package the signed APKINDEX names/);
    expect(existsSync(cachePathFor(cacheDir, `${M}/v3.21/main/x86_64/apk-tools-static-2.14.6-r3.apk`))).toBe(false);
    expect(partials(cacheDir)).toEqual([]);
  });

  it("refuses an index signed by a key kbook does not trust", async () => {
    const stranger = generateRsaKey();
    mirror.set("/alpine/v3.21/main/x86_64/APKINDEX.tar.gz", buildApkIndex([{ P: "apk-tools-static", V: "9-r0" }], stranger.privateKey, "evil.rsa.pub"));
    await expect(fetchApkStatic({ mirror: M, branch: "v3.21", arch: "x86_64", keys, cacheDir: newCache(), destDir: newCache() })).rejects.toThrow(
      /signed by evil\.rsa\.pub, a key kbook does not trust/,
    );
  });
});

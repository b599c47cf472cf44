/**
 * Alpine's own package manager for the host: apk.static, a static binary from the release's
 * apk-tools-static package. The chain of trust: the branch's APKINDEX is signed by a trusted
 * key; it names the package version and its identity (SHA-1 of the control stream); the package
 * is itself signed and its files hash to the signed datahash; apk.static's own detached
 * signature is checked when the package carries one.
 */
import { chmod, mkdir, readFile, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { ProgressReporter } from "../../progress/index.js";
import { cachedDownload, fetchBytes } from "./download.js";
import { KbookError } from "../../errors/index.js";
import { IntegrityError } from "./errors.js";
import { verifyApkIndex, verifyApkPackage, verifyDetachedSignature, type TrustedKeys } from "./apk-format.js";
import { apkIndexUrl, packageUrl } from "./mirror.js";

export interface ApkStaticOptions {
  mirror: string;
  branch: string;
  arch: string;
  keys: TrustedKeys;
  cacheDir: string;
  /** Folder the verified binary is written to. */
  destDir: string;
  progress?: ProgressReporter;
  signal?: AbortSignal;
}

const APK_STATIC_PATH = "sbin/apk.static";

/** Verifies a downloaded apk-tools-static package against its APKINDEX identity. */
export function checkApkToolsPackage(bytes: Buffer, keys: TrustedKeys, name: string, identity?: string) {
  const pkg = verifyApkPackage(bytes, keys, name);
  if (identity && pkg.identity !== identity) {
    throw new IntegrityError(name, "identity", `Refusing ${name}: it is not the package the signed APKINDEX names (identity ${pkg.identity}, index says ${identity}).`);
  }
  return pkg;
}

/** Downloads, verifies and extracts apk.static; returns its path and the package version. */
export async function fetchApkStatic(options: ApkStaticOptions): Promise<{ path: string; version: string; signer: string }> {
  const { mirror, branch, arch, keys, cacheDir, signal, progress } = options;
  const indexUrl = apkIndexUrl(mirror, branch, "main", arch);
  progress?.report("apk-tools", `reading ${indexUrl}`);
  const index = verifyApkIndex(await fetchBytes(indexUrl, signal), keys, indexUrl);
  const record = index.records.find((r) => r.P === "apk-tools-static");
  if (!record?.V) throw new KbookError(`The signed index ${indexUrl} lists no apk-tools-static package.`);
  const version = record.V;
  const url = packageUrl(mirror, branch, "main", arch, "apk-tools-static", version);
  const name = `apk-tools-static-${version}.apk`;

  const { path } = await cachedDownload({
    cacheDir,
    url,
    signal,
    onProgress: (p) => progress?.report("download", `${p.name} ${p.received} B`, p.total ? { fraction: p.received / p.total } : {}),
    verify: async (tmp) => void checkApkToolsPackage(await readFile(tmp), keys, name, record.C),
  });
  // Verified again from the cache on every use: cheap (about 1 MB) and it yields the files.
  const pkg = checkApkToolsPackage(await readFile(path), keys, name, record.C);
  const entry = pkg.files.find((f) => f.name === APK_STATIC_PATH);
  if (!entry) throw new KbookError(`${name} holds no ${APK_STATIC_PATH}.`);
  verifyDetachedSignature(pkg.files, APK_STATIC_PATH, entry.data, keys);

  await mkdir(options.destDir, { recursive: true });
  const dest = join(options.destDir, "apk.static");
  await writeFile(`${dest}.tmp`, entry.data);
  await chmod(`${dest}.tmp`, 0o755);
  await rename(`${dest}.tmp`, dest);
  return { path: dest, version, signer: pkg.signer };
}

/**
 * Alpine mirror layout and release resolution. A mirror is a plain HTTP tree:
 *
 *   MIRROR/latest-stable/ (the current stable branch), MIRROR/v3.21/, MIRROR/edge/
 *   MIRROR/BRANCH/releases/ARCH/latest-releases.yaml   (the newest point release's files)
 *   MIRROR/BRANCH/releases/ARCH/alpine-minirootfs-3.21.2-x86_64.tar.gz(.sha256)
 *   MIRROR/BRANCH/main|community/ARCH/APKINDEX.tar.gz and NAME-VERSION.apk
 *
 * Parsing is pure (tested on fixtures); resolution takes the fetch function as a parameter so
 * the same code runs against the real CDN and the tests' local fixture mirror.
 */
import { HttpStatusError, IntegrityError, ReleaseNotFoundError } from "./errors.js";
import type { AlpineArch } from "./options.js";

/** One entry of latest-releases.yaml. */
export interface AlpineReleaseFile {
  title?: string;
  flavor: string;
  version: string;
  arch: string;
  file: string;
  size?: number;
  sha256?: string;
  date?: string;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    return v.slice(1, -1).replace(/\\(["\\nt])/g, (_m, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
  }
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1).replace(/''/g, "'");
  return v;
}

/**
 * Parses latest-releases.yaml: a YAML list of flat maps, written by Alpine's release scripts as
 * "-" on its own line (or "- key: value") followed by indented "key: value" lines.
 */
export function parseLatestReleases(yaml: string): AlpineReleaseFile[] {
  const entries: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  for (const raw of yaml.split(/\r?\n/)) {
    if (!raw.trim() || raw.startsWith("---") || raw.trimStart().startsWith("#")) continue;
    let line = raw;
    const item = /^-(\s+|$)/.exec(line);
    if (item) {
      current = {};
      entries.push(current);
      line = line.slice(item[0].length);
      if (!line.trim()) continue;
    }
    const kv = /^\s*([A-Za-z0-9_]+):\s?(.*)$/.exec(line);
    if (kv && current) current[kv[1]!] = unquote(kv[2]!);
  }
  return entries
    .filter((e) => e.flavor && e.version && e.file)
    .map((e) => ({
      title: e.title,
      flavor: e.flavor!,
      version: e.version!,
      arch: e.arch ?? "",
      file: e.file!,
      size: e.size ? Number(e.size) : undefined,
      sha256: e.sha256?.toLowerCase(),
      date: e.date,
    }));
}

/** The link targets of an HTML directory listing (nginx, Apache, lighttpd autoindex). */
export function parseDirectoryListing(html: string): string[] {
  const names: string[] = [];
  for (const m of html.matchAll(/<a\s[^>]*href\s*=\s*"([^"]+)"/gi)) {
    const href = m[1]!;
    if (href.startsWith("?") || href.startsWith("/") || href.startsWith("..") || /^[a-z]+:/i.test(href)) continue;
    try {
      names.push(decodeURIComponent(href));
    } catch {
      names.push(href);
    }
  }
  return [...new Set(names)];
}

/** Numeric comparison of dotted versions ("3.9" < "3.10"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Release branches a mirror's root listing shows, newest first, e.g. ["latest-stable", "edge", "v3.21", …]. */
export function branchesInListing(names: string[]): string[] {
  const versioned = names
    .map((n) => n.replace(/\/$/, ""))
    .filter((n) => /^v\d+\.\d+$/.test(n))
    .sort((a, b) => compareVersions(b.slice(1), a.slice(1)));
  const named = ["latest-stable", "edge"].filter((n) => names.some((x) => x.replace(/\/$/, "") === n));
  return [...named, ...versioned];
}

/** Point releases of `flavor` a releases/ARCH/ listing holds, newest first. */
export function versionsInListing(names: string[], flavor: string, arch: string): string[] {
  const re = new RegExp(`^${flavor}-(\\d+\\.\\d+\\.\\d+(?:_rc\\d+)?)-${arch}\\.(?:tar\\.gz|iso)$`);
  const versions = names.map((n) => re.exec(n)?.[1]).filter((v): v is string => Boolean(v));
  return [...new Set(versions)].sort((a, b) => compareVersions(b, a));
}

/** The mirror folder of a release spec: "3.21.2" and "3.21" live in "v3.21". */
export function branchFor(release: string): string {
  if (release === "latest-stable" || release === "edge") return release;
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?$/.exec(release);
  if (!m) throw new Error(`not an Alpine release: ${release}`);
  return `v${m[1]}.${m[2]}`;
}

export function isPointRelease(release: string): boolean {
  return /^\d+\.\d+\.\d+$/.test(release);
}

export function releasesDirUrl(mirror: string, branch: string, arch: string): string {
  return `${mirror}/${branch}/releases/${arch}/`;
}

export function repositoryUrl(mirror: string, branch: string, repo: "main" | "community"): string {
  return `${mirror}/${branch}/${repo}`;
}

export function apkIndexUrl(mirror: string, branch: string, repo: "main" | "community", arch: string): string {
  return `${repositoryUrl(mirror, branch, repo)}/${arch}/APKINDEX.tar.gz`;
}

export function packageUrl(mirror: string, branch: string, repo: "main" | "community", arch: string, name: string, version: string): string {
  return `${repositoryUrl(mirror, branch, repo)}/${arch}/${name}-${version}.apk`;
}

/** The file name Alpine gives a release file: minirootfs tarballs and ISOs. */
export function releaseFileName(flavor: string, version: string, arch: string): string {
  return `${flavor}-${version}-${arch}.${flavor === "alpine-minirootfs" ? "tar.gz" : "iso"}`;
}

/** The checksum for `fileName` in a `.sha256` file ("HEX  NAME" lines, as sha256sum writes). */
export function parseSha256File(text: string, fileName: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => /^([0-9a-fA-F]{64})\s+\*?(.*)$/.exec(l.trim())).filter((m): m is RegExpExecArray => Boolean(m));
  const named = lines.find((m) => m[2]!.trim() === fileName || m[2]!.trim().endsWith(`/${fileName}`));
  if (named) return named[1]!.toLowerCase();
  return lines.length === 1 ? lines[0]![1]!.toLowerCase() : undefined;
}

/** A release file resolved to a URL and its published checksum. */
export interface ResolvedReleaseFile {
  /** Concrete point release, e.g. "3.21.2". */
  version: string;
  /** Concrete branch folder for package repositories, e.g. "v3.21" (or "edge"). */
  branch: string;
  file: string;
  url: string;
  sha256: string;
  size?: number;
}

export type FetchText = (url: string) => Promise<string>;

function isNotFound(error: unknown): boolean {
  return error instanceof HttpStatusError && (error.status === 404 || error.status === 403 || error.status === 410);
}

async function listing(fetchText: FetchText, url: string): Promise<string[]> {
  try {
    return parseDirectoryListing(await fetchText(url));
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/**
 * Resolves `release` ("latest-stable", "edge", "3.21", "3.21.2") of `flavor`
 * ("alpine-minirootfs", "alpine-virt", "alpine-standard") to a URL and its published sha256.
 * A release the mirror lacks throws ReleaseNotFoundError listing what the mirror has.
 */
export async function resolveReleaseFile(options: {
  mirror: string;
  release: string;
  arch: AlpineArch;
  flavor: string;
  fetchText: FetchText;
}): Promise<ResolvedReleaseFile> {
  const { mirror, release, arch, flavor, fetchText } = options;
  const branch = branchFor(release);
  const dir = releasesDirUrl(mirror, branch, arch);

  let entries: AlpineReleaseFile[];
  try {
    entries = parseLatestReleases(await fetchText(`${dir}latest-releases.yaml`));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new ReleaseNotFoundError(release, mirror, branchesInListing(await listing(fetchText, `${mirror}/`)).map(displayBranch), "release");
  }
  const latest = entries.find((e) => e.flavor === flavor && (!e.arch || e.arch === arch));

  let version: string;
  let yamlSha: string | undefined;
  let size: number | undefined;
  if (isPointRelease(release) && latest?.version !== release) {
    version = release;
  } else if (latest) {
    version = latest.version;
    yamlSha = latest.sha256;
    size = latest.size;
  } else {
    throw new ReleaseNotFoundError(`${release} (${flavor})`, mirror, versionsInListing(await listing(fetchText, dir), flavor, arch), "release file");
  }

  const file = latest && latest.version === version ? latest.file : releaseFileName(flavor, version, arch);
  const url = `${dir}${file}`;
  let checksumText: string;
  try {
    checksumText = await fetchText(`${url}.sha256`);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    if (isPointRelease(release) && version === release && latest?.version !== release) {
      throw new ReleaseNotFoundError(release, mirror, versionsInListing(await listing(fetchText, dir), flavor, arch), "release");
    }
    throw new IntegrityError(file, "sha256", `The mirror ${mirror} publishes no ${file}.sha256, so ${file} cannot be verified; refusing it.`, {
      hint: "Use a complete mirror (the default CDN publishes a .sha256 beside every release file).",
    });
  }
  const sha256 = parseSha256File(checksumText, file);
  if (!sha256) {
    throw new IntegrityError(file, "sha256", `${url}.sha256 holds no checksum for ${file}; refusing it.`);
  }
  if (yamlSha && yamlSha !== sha256) {
    throw new IntegrityError(file, "sha256", `The mirror disagrees with itself about ${file}: latest-releases.yaml says ${yamlSha}, ${file}.sha256 says ${sha256}; refusing it.`, {
      hint: "The mirror is probably mid-sync: try again later or pass another --mirror.",
    });
  }
  const concreteBranch = branch === "latest-stable" ? branchFor(version) : branch;
  return { version, branch: concreteBranch, file, url, sha256, size };
}

function displayBranch(branch: string): string {
  return branch.replace(/^v(\d)/, "$1");
}

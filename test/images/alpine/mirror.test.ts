import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HttpStatusError, IntegrityError, ReleaseNotFoundError } from "../../../lib/images/alpine/errors.js";
import {
  apkIndexUrl,
  branchesInListing,
  branchFor,
  compareVersions,
  packageUrl,
  parseDirectoryListing,
  parseLatestReleases,
  parseSha256File,
  releaseFileName,
  resolveReleaseFile,
  versionsInListing,
} from "../../../lib/images/alpine/mirror.js";
import { alpinePackageList, DEFAULT_ALPINE_MIRROR, normalizeAlpineRecipe } from "../../../lib/images/alpine/options.js";

const testdata = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");
const M = "https://mirror.test/alpine";

describe("parsing the mirror's files", () => {
  it("reads latest-releases.yaml entries in both list styles", () => {
    const entries = parseLatestReleases(testdata("latest-releases.yaml"));
    expect(entries.map((e) => e.flavor)).toEqual(["alpine-minirootfs", "alpine-virt", "alpine-standard"]);
    expect(entries[0]).toMatchObject({ version: "3.21.2", file: "alpine-minirootfs-3.21.2-x86_64.tar.gz", size: 3645362, sha256: "1".repeat(64) });
    expect(entries[2]!.file).toBe("alpine-standard-3.21.2-x86_64.iso");
  });

  it("lists branches and point releases from autoindex pages, newest first", () => {
    expect(branchesInListing(parseDirectoryListing(testdata("mirror-root.html")))).toEqual(["latest-stable", "edge", "v3.21", "v3.20", "v3.19", "v3.9"]);
    const names = parseDirectoryListing(testdata("releases-x86_64.html"));
    expect(names).not.toContain("../");
    expect(versionsInListing(names, "alpine-minirootfs", "x86_64")).toEqual(["3.21.2", "3.21.1", "3.21.0"]);
    expect(versionsInListing(names, "alpine-virt", "x86_64")).toEqual(["3.21.2"]);
  });

  it("reads sha256sum-style checksum files", () => {
    const sum = "ab".repeat(32);
    expect(parseSha256File(`${sum}  alpine-minirootfs-3.21.2-x86_64.tar.gz\n`, "alpine-minirootfs-3.21.2-x86_64.tar.gz")).toBe(sum);
    expect(parseSha256File(`${sum.toUpperCase()} *x.iso\n`, "x.iso")).toBe(sum);
    expect(parseSha256File(`${sum}  other\n${"cd".repeat(32)}  mine\n`, "mine")).toBe("cd".repeat(32));
    expect(parseSha256File("garbage", "x")).toBeUndefined();
  });

  it("orders versions numerically", () => {
    expect(["3.9", "3.21", "3.10"].sort(compareVersions)).toEqual(["3.9", "3.10", "3.21"]);
  });
});

describe("URLs", () => {
  it("maps releases to branch folders and builds repository URLs", () => {
    expect(branchFor("latest-stable")).toBe("latest-stable");
    expect(branchFor("edge")).toBe("edge");
    expect(branchFor("3.21")).toBe("v3.21");
    expect(branchFor("3.21.2")).toBe("v3.21");
    expect(apkIndexUrl(M, "v3.21", "main", "x86_64")).toBe(`${M}/v3.21/main/x86_64/APKINDEX.tar.gz`);
    expect(packageUrl(M, "v3.21", "main", "x86_64", "apk-tools-static", "2.14.6-r3")).toBe(`${M}/v3.21/main/x86_64/apk-tools-static-2.14.6-r3.apk`);
    expect(releaseFileName("alpine-minirootfs", "3.20.5", "x86_64")).toBe("alpine-minirootfs-3.20.5-x86_64.tar.gz");
    expect(releaseFileName("alpine-virt", "3.20.5", "x86_64")).toBe("alpine-virt-3.20.5-x86_64.iso");
  });
});

/** A pretend mirror as a map from URL to text; missing URLs answer 404 like the CDN. */
function mirrorOf(files: Record<string, string>) {
  const asked: string[] = [];
  const fetchText = async (url: string) => {
    asked.push(url);
    if (url in files) return files[url]!;
    throw new HttpStatusError(url, 404, "Not Found");
  };
  return { fetchText, asked };
}

const yaml = testdata("latest-releases.yaml");
const rootHtml = testdata("mirror-root.html");
const releasesHtml = testdata("releases-x86_64.html");
const sumLine = (hex: string, file: string) => `${hex}  ${file}\n`;

describe("resolveReleaseFile", () => {
  const files = {
    [`${M}/`]: rootHtml,
    [`${M}/latest-stable/releases/x86_64/latest-releases.yaml`]: yaml,
    [`${M}/latest-stable/releases/x86_64/alpine-minirootfs-3.21.2-x86_64.tar.gz.sha256`]: sumLine("1".repeat(64), "alpine-minirootfs-3.21.2-x86_64.tar.gz"),
    [`${M}/v3.21/releases/x86_64/latest-releases.yaml`]: yaml,
    [`${M}/v3.21/releases/x86_64/`]: releasesHtml,
    [`${M}/v3.21/releases/x86_64/alpine-minirootfs-3.21.2-x86_64.tar.gz.sha256`]: sumLine("1".repeat(64), "alpine-minirootfs-3.21.2-x86_64.tar.gz"),
    [`${M}/v3.21/releases/x86_64/alpine-minirootfs-3.21.0-x86_64.tar.gz.sha256`]: sumLine("9".repeat(64), "alpine-minirootfs-3.21.0-x86_64.tar.gz"),
    [`${M}/v3.21/releases/x86_64/alpine-virt-3.21.2-x86_64.iso.sha256`]: sumLine("3".repeat(64), "alpine-virt-3.21.2-x86_64.iso"),
  };

  it("resolves latest-stable to the concrete release and branch", async () => {
    const { fetchText } = mirrorOf(files);
    const r = await resolveReleaseFile({ mirror: M, release: "latest-stable", arch: "x86_64", flavor: "alpine-minirootfs", fetchText });
    expect(r).toEqual({
      version: "3.21.2",
      branch: "v3.21",
      file: "alpine-minirootfs-3.21.2-x86_64.tar.gz",
      url: `${M}/latest-stable/releases/x86_64/alpine-minirootfs-3.21.2-x86_64.tar.gz`,
      sha256: "1".repeat(64),
      size: 3645362,
    });
  });

  it("resolves a branch, an older point release, and the ISO flavour", async () => {
    const { fetchText } = mirrorOf(files);
    expect((await resolveReleaseFile({ mirror: M, release: "3.21", arch: "x86_64", flavor: "alpine-minirootfs", fetchText })).version).toBe("3.21.2");
    const old = await resolveReleaseFile({ mirror: M, release: "3.21.0", arch: "x86_64", flavor: "alpine-minirootfs", fetchText });
    expect(old).toMatchObject({ version: "3.21.0", branch: "v3.21", sha256: "9".repeat(64), url: `${M}/v3.21/releases/x86_64/alpine-minirootfs-3.21.0-x86_64.tar.gz` });
    const iso = await resolveReleaseFile({ mirror: M, release: "3.21", arch: "x86_64", flavor: "alpine-virt", fetchText });
    expect(iso.file).toBe("alpine-virt-3.21.2-x86_64.iso");
  });

  it("a branch the mirror lacks lists the branches it has", async () => {
    const { fetchText } = mirrorOf(files);
    const error = await resolveReleaseFile({ mirror: M, release: "3.99", arch: "x86_64", flavor: "alpine-minirootfs", fetchText }).catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseNotFoundError);
    expect(error.message).toBe(`Alpine release '3.99' is not on the mirror ${M}.`);
    expect(error.hint).toBe("The mirror lists: latest-stable, edge, 3.21, 3.20, 3.19, 3.9.");
  });

  it("a point release the branch lacks lists the point releases it has", async () => {
    const { fetchText } = mirrorOf(files);
    const error = await resolveReleaseFile({ mirror: M, release: "3.21.7", arch: "x86_64", flavor: "alpine-minirootfs", fetchText }).catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseNotFoundError);
    expect(error.available).toEqual(["3.21.2", "3.21.1", "3.21.0"]);
  });

  it("refuses when the published checksums disagree or are missing", async () => {
    const { fetchText } = mirrorOf({ ...files, [`${M}/v3.21/releases/x86_64/alpine-minirootfs-3.21.2-x86_64.tar.gz.sha256`]: sumLine("f".repeat(64), "alpine-minirootfs-3.21.2-x86_64.tar.gz") });
    await expect(resolveReleaseFile({ mirror: M, release: "3.21", arch: "x86_64", flavor: "alpine-minirootfs", fetchText })).rejects.toThrow(/disagrees with itself/);
    const missing = mirrorOf({ [`${M}/v3.21/releases/x86_64/latest-releases.yaml`]: yaml });
    const error = await resolveReleaseFile({ mirror: M, release: "3.21", arch: "x86_64", flavor: "alpine-minirootfs", fetchText: missing.fetchText }).catch((e) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toMatch(/publishes no alpine-minirootfs-3\.21\.2-x86_64\.tar\.gz\.sha256/);
  });
});

describe("normalizeAlpineRecipe", () => {
  it("fills defaults deterministically and sorts packages", () => {
    const r = normalizeAlpineRecipe({ packages: ["strace", "gdb", "strace"] });
    expect(r).toEqual({
      kind: "alpine",
      method: "minirootfs",
      release: "latest-stable",
      arch: "x86_64",
      mirror: DEFAULT_ALPINE_MIRROR,
      kernel: "virt",
      packages: ["gdb", "strace"],
      diskSize: "2G",
      isoFlavor: "virt",
      keysDir: undefined,
      hostname: "kbook",
    });
    expect(normalizeAlpineRecipe({ release: "v3.20", mirror: "http://m.test/alpine/", kernel: "lts" })).toMatchObject({ release: "3.20", mirror: "http://m.test/alpine", kernel: "lts" });
    expect(alpinePackageList(normalizeAlpineRecipe({ kernel: "lts", packages: ["perf", "strace"] }))).toEqual(["linux-lts", "alpine-base", "openrc", "perf", "bpftrace", "strace"]);
  });

  it("rejects bad options with a sentence saying what is allowed", () => {
    expect(() => normalizeAlpineRecipe({ release: "stable" })).toThrow(/'stable' is not an Alpine release/);
    expect(() => normalizeAlpineRecipe({ method: "netboot" as never })).toThrow(/'netboot' is not a valid method/);
    expect(() => normalizeAlpineRecipe({ packages: ["Bad Name"] })).toThrow(/not an Alpine package name/);
    expect(() => normalizeAlpineRecipe({ mirror: "ftp://x" })).toThrow(/not an http/);
    expect(() => normalizeAlpineRecipe({ diskSize: "2T" })).toThrow(/2G or 1500M/);
  });
});

import { createHash, createPublicKey, sign } from "node:crypto";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  parseApkIndex,
  parseTar,
  splitGzipMembers,
  verifyApkIndex,
  verifyApkPackage,
  verifyDetachedSignature,
  type TrustedKeys,
} from "../../../lib/images/alpine/apk-format.js";
import { IntegrityError } from "../../../lib/images/alpine/errors.js";
import { loadTrustedKeys, SHIPPED_KEY_SHA512 } from "../../../lib/images/alpine/keys.js";
import { buildApk, buildApkIndex, generateRsaKey, tar } from "./apk-fixtures.js";

const KEY_NAME = "kbook-test-61234567.rsa.pub";
const signer = generateRsaKey();
const stranger = generateRsaKey();
const keys: TrustedKeys = new Map([[KEY_NAME, createPublicKey(signer.publicPem)]]);
const apkStatic = Buffer.from("\x7fELF pretend static binary ".repeat(300));

describe("splitGzipMembers", () => {
  it("finds each member's exact bytes and content", () => {
    const a = gzipSync(Buffer.from("first ".repeat(1000)));
    const b = gzipSync(Buffer.from("second"));
    const c = gzipSync(Buffer.alloc(0));
    const members = splitGzipMembers(Buffer.concat([a, b, c]));
    expect(members.map((m) => m.raw.length)).toEqual([a.length, b.length, c.length]);
    expect(members[0]!.raw.equals(a)).toBe(true);
    expect(members[1]!.content.toString()).toBe("second");
  });

  it("splits what system gzip writes (header with a file name)", () => {
    const dir = mkdtempSync(join(tmpdir(), "kbook-gz-"));
    writeFileSync(join(dir, "x.txt"), "named member");
    execFileSync("gzip", ["-kn9", join(dir, "x.txt")]);
    execFileSync("gzip", ["-k", "-N", "-f", join(dir, "x.txt")]); // -N stores the name (FNAME flag)
    const named = readFileSync(join(dir, "x.txt.gz"));
    expect(named[3]! & 8).toBe(8);
    const members = splitGzipMembers(Buffer.concat([named, gzipSync("tail")]));
    expect(members.map((m) => m.content.toString())).toEqual(["named member", "tail"]);
  });

  it("rejects data that is not gzip", () => {
    expect(() => splitGzipMembers(Buffer.from("not gzip at all"))).toThrow(/not a gzip stream/);
  });
});

describe("parseTar", () => {
  it("reads segments without end blocks and tarballs written by GNU tar", () => {
    const segment = tar([{ name: ".PKGINFO", data: "pkgname = x\n" }], false);
    expect(parseTar(segment).map((e) => e.name)).toEqual([".PKGINFO"]);

    const dir = mkdtempSync(join(tmpdir(), "kbook-tar-"));
    const long = `${"deep/".repeat(30)}file.txt`;
    mkdirSync(join(dir, "src", ...long.split("/").slice(0, -1)), { recursive: true });
    writeFileSync(join(dir, "src", long), "long name content");
    execFileSync("tar", ["--format=pax", "-cf", join(dir, "t.tar"), "-C", join(dir, "src"), long]);
    const entries = parseTar(readFileSync(join(dir, "t.tar")));
    const file = entries.find((e) => e.type === "0")!;
    expect(file.name).toBe(long);
    expect(file.data.toString()).toBe("long name content");
  });

  it("detects a corrupted header", () => {
    const t = tar([{ name: "a", data: "x" }], true);
    t[10] ^= 0xff;
    expect(() => parseTar(t)).toThrow(/checksum/);
  });
});

describe("verifyApkPackage", () => {
  const pkg = buildApk({ name: "apk-tools-static", version: "2.14.6-r3", files: [{ name: "sbin/apk.static", data: apkStatic, mode: 0o755 }], key: signer.privateKey, keyName: KEY_NAME });

  it("accepts a package signed by a trusted key and returns its files and identity", () => {
    const v = verifyApkPackage(pkg.bytes, keys, "apk-tools-static.apk");
    expect(v.signer).toBe(KEY_NAME);
    expect(v.identity).toBe(pkg.identity);
    expect(v.pkginfo.pkgver).toEqual(["2.14.6-r3"]);
    expect(v.files.find((f) => f.name === "sbin/apk.static")!.data.equals(apkStatic)).toBe(true);
  });

  it("accepts RSA256 signatures and packages signed over control+data (no datahash)", () => {
    const rsa256 = buildApk({ name: "p", version: "1-r0", files: [{ name: "f", data: "x" }], key: signer.privateKey, keyName: KEY_NAME, algorithm: "RSA256" });
    expect(verifyApkPackage(rsa256.bytes, keys).signer).toBe(KEY_NAME);
    const whole = buildApk({ name: "p", version: "1-r0", files: [{ name: "f", data: "x" }], key: signer.privateKey, keyName: KEY_NAME, withoutDatahash: true });
    expect(verifyApkPackage(whole.bytes, keys).pkginfo.datahash).toBeUndefined();
  });

  it("refuses a package whose files were changed after signing (datahash)", () => {
    const bytes = Buffer.from(pkg.bytes);
    const members = splitGzipMembers(bytes);
    const dataStart = members[0]!.raw.length + members[1]!.raw.length;
    const tampered = Buffer.concat([bytes.subarray(0, dataStart), gzipSync(tar([{ name: "sbin/apk.static", data: "evil" }], true))]);
    expect(() => verifyApkPackage(tampered, keys, "x.apk")).toThrow(IntegrityError);
    try {
      verifyApkPackage(tampered, keys, "x.apk");
    } catch (e) {
      expect((e as IntegrityError).check).toBe("datahash");
      expect((e as Error).message).toMatch(/Refusing x\.apk: its files hash to/);
    }
  });

  it("refuses a package signed by a key that is not trusted, naming the key", () => {
    const foreign = buildApk({ name: "p", version: "1", files: [{ name: "f", data: "x" }], key: stranger.privateKey, keyName: "someone-else.rsa.pub" });
    expect(() => verifyApkPackage(foreign.bytes, keys, "p.apk")).toThrow(/signed by someone-else\.rsa\.pub, a key kbook does not trust/);
  });

  it("refuses a forged signature that claims a trusted key's name", () => {
    const forged = buildApk({ name: "p", version: "1", files: [{ name: "f", data: "x" }], key: stranger.privateKey, keyName: KEY_NAME });
    expect(() => verifyApkPackage(forged.bytes, keys, "p.apk")).toThrow(/signature by kbook-test-61234567\.rsa\.pub does not verify/);
  });

  it("verifies a signature made by the openssl CLI the way abuild-sign makes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "kbook-openssl-"));
    execFileSync("openssl", ["genrsa", "-out", join(dir, "k.rsa"), "2048"], { stdio: "ignore" });
    execFileSync("openssl", ["rsa", "-in", join(dir, "k.rsa"), "-pubout", "-out", join(dir, "k.rsa.pub")], { stdio: "ignore" });
    const data = gzipSync(tar([{ name: "f", data: "x" }], true));
    const datahash = createHash("sha256").update(data).digest("hex");
    const control = gzipSync(tar([{ name: ".PKGINFO", data: `pkgname = o\npkgver = 1\ndatahash = ${datahash}\n` }], false));
    writeFileSync(join(dir, "control.tar.gz"), control);
    execFileSync("openssl", ["dgst", "-sha1", "-sign", join(dir, "k.rsa"), "-out", join(dir, "sig"), join(dir, "control.tar.gz")]);
    const sig = gzipSync(tar([{ name: ".SIGN.RSA.k.rsa.pub", data: readFileSync(join(dir, "sig")) }], false));
    const opensslKeys: TrustedKeys = new Map([["k.rsa.pub", createPublicKey(readFileSync(join(dir, "k.rsa.pub")))]]);
    expect(verifyApkPackage(Buffer.concat([sig, control, data]), opensslKeys).signer).toBe("k.rsa.pub");
  });

  it("checks apk.static's detached signature when the package carries one", () => {
    const good = sign("sha256", apkStatic, signer.privateKey);
    const files = [{ name: "sbin/apk.static", type: "0", mode: 0o755, size: 0, linkname: "", data: apkStatic }, { name: `sbin/apk.static.SIGN.RSA.sha256.${KEY_NAME}`, type: "0", mode: 0o644, size: 0, linkname: "", data: good }];
    expect(verifyDetachedSignature(files, "sbin/apk.static", apkStatic, keys)).toBe(KEY_NAME);
    expect(() => verifyDetachedSignature(files, "sbin/apk.static", Buffer.from("other"), keys)).toThrow(/detached signature .* does not verify/);
    expect(verifyDetachedSignature(files.slice(0, 1), "sbin/apk.static", apkStatic, keys)).toBeNull();
  });
});

describe("verifyApkIndex", () => {
  it("returns the records of a signed index and refuses an altered one", () => {
    const bytes = buildApkIndex([{ P: "apk-tools-static", V: "2.14.6-r3", C: "Q1abc=" }, { P: "busybox", V: "1.37.0-r12" }], signer.privateKey, KEY_NAME);
    const v = verifyApkIndex(bytes, keys);
    expect(v.records.map((r) => `${r.P}-${r.V}`)).toEqual(["apk-tools-static-2.14.6-r3", "busybox-1.37.0-r12"]);
    expect(v.description).toBe("v3.21.2-0-gtest");
    const members = splitGzipMembers(bytes);
    const other = gzipSync(tar([{ name: "APKINDEX", data: "P:apk-tools-static\nV:6.6.6-r0\n\n" }], true));
    expect(() => verifyApkIndex(Buffer.concat([members[0]!.raw, other]), keys)).toThrow(/does not verify/);
  });

  it("parses APKINDEX records with repeated blank lines", () => {
    expect(parseApkIndex("P:a\nV:1\n\n\nP:b\nV:2\nD:so:libc.musl-x86_64.so.1\n")).toEqual([{ P: "a", V: "1" }, { P: "b", V: "2", D: "so:libc.musl-x86_64.so.1" }]);
  });
});

describe("shipped Alpine keys", () => {
  it("loads the pinned x86_64 key and a user keys folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kbook-keys-"));
    writeFileSync(join(dir, KEY_NAME), signer.publicPem);
    const loaded = await loadTrustedKeys(dir);
    for (const name of Object.keys(SHIPPED_KEY_SHA512)) expect(loaded.has(name)).toBe(true);
    expect(loaded.has(KEY_NAME)).toBe(true);
    const shipped = loaded.get("alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub")!;
    expect(shipped.asymmetricKeyDetails?.modulusLength).toBe(4096);
    // The pin is what aports' APKBUILD records; recompute it from the asset to prove they agree.
    const pem = shipped.export({ type: "spki", format: "pem" });
    expect(createHash("sha512").update(pem).digest("hex")).toBe(SHIPPED_KEY_SHA512["alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"]);
  });

  it("refuses a keys folder entry that is not a key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kbook-keys-"));
    writeFileSync(join(dir, "broken.rsa.pub"), "not a key");
    await expect(loadTrustedKeys(dir, { includeShipped: false })).rejects.toThrow(/is not a PEM public key/);
  });
});

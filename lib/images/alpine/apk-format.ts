/**
 * Reading and verifying Alpine's apk v2 files (packages and APKINDEX.tar.gz) with node:crypto.
 *
 * Format facts (apk-v2(5), apk-tools' extract_v2.c): a v2 file is several gzip streams
 * concatenated, which together read as one tar archive:
 *   1. signature: tar entries `.SIGN.<ALG>.<keyname>` (ALG = RSA: SHA-1, RSA256: SHA-256,
 *      RSA512: SHA-512), each an RSA PKCS#1 v1.5 signature; written without tar end blocks;
 *   2. control: `.PKGINFO` (and scripts) for a package, `DESCRIPTION` + `APKINDEX` for an index;
 *   3. data (packages only): the files, a complete tar archive.
 * The signature covers the *compressed* bytes of stream 2 when .PKGINFO has a `datahash`
 * (then stream 3's compressed bytes must hash, SHA-256, to it), else streams 2 and 3 together.
 * An index is signed over stream 2. The SHA-1 of a package's stream 2 is its identity, which the
 * APKINDEX records as `C:Q1<base64>`. The key name is the key file's name in /etc/apk/keys.
 */
import { createHash, verify as verifySignature, type KeyObject } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import { IntegrityError } from "./errors.js";

export interface GzipMember {
  /** The member's compressed bytes, header and trailer included (what signatures cover). */
  raw: Buffer;
  /** Its decompressed content. */
  content: Buffer;
}

/** Splits concatenated gzip streams at their boundaries (RFC 1952 member layout). */
export function splitGzipMembers(data: Buffer): GzipMember[] {
  const members: GzipMember[] = [];
  let at = 0;
  while (at < data.length) {
    if (data[at] !== 0x1f || data[at + 1] !== 0x8b || data[at + 2] !== 8) {
      // Trailing zero padding after the last member is allowed; anything else is not gzip.
      if (members.length && data.subarray(at).every((b) => b === 0)) break;
      throw new Error(`not a gzip stream at byte ${at}`);
    }
    const flags = data[at + 3]!;
    let pos = at + 10;
    if (flags & 4) pos += 2 + data.readUInt16LE(pos); // FEXTRA
    if (flags & 8) pos = data.indexOf(0, pos) + 1; // FNAME
    if (flags & 16) pos = data.indexOf(0, pos) + 1; // FCOMMENT
    if (flags & 2) pos += 2; // FHCRC
    if (pos <= at || pos > data.length) throw new Error(`truncated gzip header at byte ${at}`);
    // With `info`, zlib reports how much input the deflate stream consumed: that is where this
    // member's 8-byte trailer (CRC32, size) starts and the next member begins.
    const { buffer, engine } = inflateRawSync(data.subarray(pos), { info: true } as object) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    const end = pos + engine.bytesWritten + 8;
    if (end > data.length) throw new Error(`truncated gzip stream at byte ${at}`);
    members.push({ raw: data.subarray(at, end), content: buffer });
    at = end;
  }
  return members;
}

export interface TarEntry {
  name: string;
  /** "0" file, "5" directory, "2" symlink, "1" hard link… */
  type: string;
  mode: number;
  size: number;
  linkname: string;
  data: Buffer;
}

function tarString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? length : nul).toString("utf8");
}

function tarNumber(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    // GNU base-256 for values that do not fit the octal field.
    let value = 0;
    for (let i = 1; i < length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = tarString(block, offset, length).trim();
  return text ? Number.parseInt(text, 8) : 0;
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number.parseInt(data.subarray(at, space).toString(), 10);
    if (!length) break;
    const record = data.subarray(space + 1, at + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

/**
 * Parses a tar archive or tar segment (ustar, with pax `x` and GNU `L`/`K` long names). Stops at
 * the end blocks or the end of data, so signature and control segments parse too.
 */
export function parseTar(data: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let at = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (at + 512 <= data.length) {
    const header = data.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const stored = tarNumber(header, 148, 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (sum !== stored) throw new Error(`tar header checksum mismatch at byte ${at}`);
    const size = tarNumber(header, 124, 12);
    const type = String.fromCharCode(header[156]! || 0x30);
    const body = data.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      pax = paxRecords(body);
      continue;
    }
    if (type === "g") continue;
    if (type === "L") {
      longName = tarString(body, 0, body.length);
      continue;
    }
    if (type === "K") {
      longLink = tarString(body, 0, body.length);
      continue;
    }
    const prefix = header.subarray(257, 263).toString("latin1").startsWith("ustar") ? tarString(header, 345, 155) : "";
    const shortName = tarString(header, 0, 100);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${shortName}` : shortName);
    entries.push({
      name,
      type,
      mode: tarNumber(header, 100, 8),
      size,
      linkname: pax.linkpath ?? longLink ?? tarString(header, 157, 100),
      data: body,
    });
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  return entries;
}

/** `key = value` lines of .PKGINFO; a key may repeat (depend, provides…). */
export function parsePkgInfo(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.indexOf(" = ");
    if (at < 0) continue;
    (out[line.slice(0, at)] ??= []).push(line.slice(at + 3));
  }
  return out;
}

/** APKINDEX records: blank-line separated blocks of `X:value` lines (P name, V version, C identity…). */
export function parseApkIndex(text: string): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const record: Record<string, string> = {};
    for (const line of block.split("\n")) {
      const m = /^([A-Za-z]):(.*)$/.exec(line);
      if (m) record[m[1]!] = m[2]!;
    }
    if (record.P) records.push(record);
  }
  return records;
}

const SIGNATURE_DIGESTS: Record<string, string> = { RSA: "sha1", RSA256: "sha256", RSA512: "sha512" };

export interface SignatureFile {
  algorithm: string;
  digest: string;
  keyName: string;
  signature: Buffer;
}

/** The `.SIGN.*` entries of a signature segment. */
export function signatureFiles(entries: TarEntry[]): SignatureFile[] {
  const out: SignatureFile[] = [];
  for (const e of entries) {
    const m = /^\.SIGN\.([A-Z0-9]+)\.(.+)$/.exec(e.name);
    if (!m) continue;
    const digest = SIGNATURE_DIGESTS[m[1]!];
    if (digest) out.push({ algorithm: m[1]!, digest, keyName: m[2]!, signature: e.data });
  }
  return out;
}

/** Trusted public keys by key file name (as in /etc/apk/keys). */
export type TrustedKeys = Map<string, KeyObject>;

function checkSignature(what: string, signed: Buffer, signatures: SignatureFile[], keys: TrustedKeys): string {
  if (!signatures.length) throw new IntegrityError(what, "signature", `Refusing ${what}: it carries no apk signature.`);
  const trusted = signatures.filter((s) => keys.has(s.keyName));
  if (!trusted.length) {
    throw new IntegrityError(what, "signature", `Refusing ${what}: it is signed by ${signatures.map((s) => s.keyName).join(", ")}, a key kbook does not trust.`, {
      hint: "Put Alpine's public key of that name (from the alpine-keys package or alpinelinux.org/keys) in a folder and pass it as keysDir (--keys-dir).",
    });
  }
  for (const s of trusted) {
    if (verifySignature(s.digest, signed, keys.get(s.keyName)!, s.signature)) return s.keyName;
  }
  throw new IntegrityError(what, "signature", `Refusing ${what}: its signature by ${trusted.map((s) => s.keyName).join(", ")} does not verify.`, {
    hint: "The file was altered or corrupted on its way: try again, or another --mirror.",
  });
}

export interface VerifiedPackage {
  pkginfo: Record<string, string[]>;
  /** Entries of the data archive (the package's files). */
  files: TarEntry[];
  signer: string;
  /** APKINDEX identity of the package: "Q1" + base64(SHA-1 of the control stream). */
  identity: string;
}

/** Verifies an apk v2 package's signature and data hash; throws IntegrityError when either fails. */
export function verifyApkPackage(bytes: Buffer, keys: TrustedKeys, what = "package"): VerifiedPackage {
  let members: GzipMember[];
  try {
    members = splitGzipMembers(bytes);
  } catch (error) {
    throw new IntegrityError(what, "signature", `Refusing ${what}: it is not an apk package (${(error as Error).message}).`, { cause: error });
  }
  if (members.length < 3) throw new IntegrityError(what, "signature", `Refusing ${what}: it is not a signed apk v2 package (${members.length} gzip streams, expected 3).`);
  const [signatureStream, control, ...data] = members as [GzipMember, GzipMember, ...GzipMember[]];
  const pkginfoEntry = parseTar(control.content).find((e) => e.name === ".PKGINFO");
  if (!pkginfoEntry) throw new IntegrityError(what, "signature", `Refusing ${what}: its control section has no .PKGINFO.`);
  const pkginfo = parsePkgInfo(pkginfoEntry.data.toString("utf8"));
  const datahash = pkginfo.datahash?.[0]?.toLowerCase();
  const signed = datahash ? control.raw : Buffer.concat([control.raw, ...data.map((m) => m.raw)]);
  const signer = checkSignature(what, signed, signatureFiles(parseTar(signatureStream.content)), keys);
  if (datahash) {
    const hash = createHash("sha256");
    for (const m of data) hash.update(m.raw);
    const actual = hash.digest("hex");
    if (actual !== datahash) {
      throw new IntegrityError(what, "datahash", `Refusing ${what}: its files hash to ${actual}, but its signed .PKGINFO says ${datahash}.`);
    }
  }
  const identity = `Q1${createHash("sha1").update(control.raw).digest("base64")}`;
  return { pkginfo, files: parseTar(Buffer.concat(data.map((m) => m.content))), signer, identity };
}

/** Verifies an APKINDEX.tar.gz and returns its records. */
export function verifyApkIndex(bytes: Buffer, keys: TrustedKeys, what = "APKINDEX.tar.gz"): { records: Record<string, string>[]; description: string; signer: string } {
  let members: GzipMember[];
  try {
    members = splitGzipMembers(bytes);
  } catch (error) {
    throw new IntegrityError(what, "signature", `Refusing ${what}: it is not a gzip file (${(error as Error).message}).`, { cause: error });
  }
  if (members.length < 2) throw new IntegrityError(what, "signature", `Refusing ${what}: it carries no apk signature.`);
  const signer = checkSignature(what, members[1]!.raw, signatureFiles(parseTar(members[0]!.content)), keys);
  const entries = parseTar(Buffer.concat(members.slice(1).map((m) => m.content)));
  const index = entries.find((e) => e.name === "APKINDEX");
  if (!index) throw new IntegrityError(what, "signature", `Refusing ${what}: it holds no APKINDEX file.`);
  const description = entries.find((e) => e.name === "DESCRIPTION")?.data.toString("utf8").trim() ?? "";
  return { records: parseApkIndex(index.data.toString("utf8")), description, signer };
}

/**
 * Verifies a detached signature shipped beside a file in a package, as apk-tools-static ships
 * `sbin/apk.static.SIGN.RSA.sha256.<key>` (or `.SIGN.RSA.<key>`, SHA-1) for apk.static.
 * Returns the key name, or null when no detached signature by a trusted key is present.
 */
export function verifyDetachedSignature(files: TarEntry[], path: string, content: Buffer, keys: TrustedKeys): string | null {
  const prefix = `${path}.SIGN.RSA.`;
  for (const entry of files) {
    if (!entry.name.startsWith(prefix)) continue;
    const rest = entry.name.slice(prefix.length);
    const [digest, keyName] = rest.startsWith("sha256.") ? ["sha256", rest.slice(7)] : rest.startsWith("sha512.") ? ["sha512", rest.slice(7)] : ["sha1", rest];
    const key = keys.get(keyName);
    if (!key) continue;
    if (!verifySignature(digest, content, key, entry.data)) {
      throw new IntegrityError(path, "signature", `Refusing ${path}: its detached signature by ${keyName} does not verify.`);
    }
    return keyName;
  }
  return null;
}

/**
 * Alpine's package-signing public keys. kbook ships the x86_64 key that signs current Alpine
 * releases (3.15 and later) in assets/alpine/keys/. Its bytes were taken from public copies and
 * checked against the SHA-512 that Alpine's own aports tree (main/alpine-keys/APKBUILD,
 * alpine-keys 2.4) records for it; that checksum is pinned below and checked on every load, so
 * an altered asset is refused rather than trusted. Older releases (signed by the 4a6a0840 and
 * 5261cecb keys) or other keys: pass a folder of `*.rsa.pub` files as the recipe's keysDir.
 */
import { createHash, createPublicKey } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { assetPath } from "../../paths.js";
import { KbookError, UsageError } from "../../errors/index.js";
import type { TrustedKeys } from "./apk-format.js";

/** SHA-512 of each shipped key file, as in aports main/alpine-keys/APKBUILD. */
export const SHIPPED_KEY_SHA512: Record<string, string> = {
  "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub":
    "8b9c2208c904c9f34d9d01d3d68b224208530e684265df214deb8c9e6b4b19633aa48a405e673249c9e93a8ee194a336e951cd82a4e27e5e66e85fdc5e0d495e",
};

export function shippedKeysDir(): string {
  return assetPath("alpine", "keys");
}

async function readKeysFrom(dir: string, keys: TrustedKeys, pinned: Record<string, string> | undefined): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".pub")).sort();
  } catch (error) {
    throw new UsageError(`Cannot read the apk keys folder ${dir}: ${(error as Error).message}.`, { cause: error });
  }
  for (const name of names) {
    const pem = await readFile(join(dir, name));
    if (pinned) {
      const sum = createHash("sha512").update(pem).digest("hex");
      if (pinned[name] !== sum) throw new KbookError(`kbook's copy of the Alpine key ${name} does not match its pinned checksum; refusing to trust it.`, { hint: "Reinstall kbook." });
    }
    try {
      keys.set(name, createPublicKey(pem));
    } catch (error) {
      throw new UsageError(`${join(dir, name)} is not a PEM public key.`, { cause: error });
    }
  }
}

/** The keys kbook ships plus those in `extraDir` (same file name: the user's wins). */
export async function loadTrustedKeys(extraDir?: string, options: { includeShipped?: boolean } = {}): Promise<TrustedKeys> {
  const keys: TrustedKeys = new Map();
  if (options.includeShipped !== false) await readKeysFrom(shippedKeysDir(), keys, SHIPPED_KEY_SHA512);
  if (extraDir) await readKeysFrom(extraDir, keys, undefined);
  return keys;
}

/** Writes the trusted keys as PEM files into a folder, for apk.static --keys-dir. */
export async function exportKeys(keys: TrustedKeys, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, key] of keys) await writeFile(join(dir, name), key.export({ type: "spki", format: "pem" }));
}

/**
 * File transfer as guest commands: `cat` with the path passed as an argument, never spliced
 * into shell text, and the bytes carried as stdin/stdout frames (binary-safe). Works with any
 * Guest, and needs nothing in the guest beyond sh, cat, chmod and mv (busybox has them).
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import type { Guest } from "../guest/index.js";
import { UsageError } from "../errors/index.js";
import { GuestCommandError } from "./errors.js";

type Executor = Pick<Guest, "exec">;

// Written to a temp file and renamed, so a reader never sees half a file and a running binary
// (e.g. /sbin/kbook-agent itself) can be replaced (writing it in place fails with ETXTBSY).
const COPY_IN_SCRIPT = `set -e
tmp="$1.kbook-tmp.$$"
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
if [ -n "$2" ]; then chmod "$2" "$tmp"; fi
mv -f "$tmp" "$1"`;

export async function copyIntoGuest(
  guest: Executor,
  source: string | Uint8Array,
  guestPath: string,
  options: { mode?: number } = {},
): Promise<void> {
  checkGuestPath(guestPath);
  let bytes: Uint8Array;
  let mode = options.mode;
  if (typeof source === "string") {
    try {
      bytes = await readFile(source);
      // Like cp: a copied executable stays executable unless told otherwise.
      mode ??= (await stat(source)).mode & 0o7777;
    } catch (error) {
      throw new UsageError(`Cannot read ${source} to copy it into the guest: ${(error as Error).message}.`, { cause: error });
    }
  } else {
    bytes = source;
  }
  const modeArg = mode === undefined ? "" : mode.toString(8);
  const result = await guest.exec(["/bin/sh", "-c", COPY_IN_SCRIPT, "kbook-copy-in", guestPath, modeArg], {
    input: bytes,
    reject: false,
  });
  if (result.exitCode !== 0) {
    throw new GuestCommandError(result, {
      what: `Copying ${typeof source === "string" ? source : `${bytes.length} bytes`} into the guest at ${guestPath}`,
      hint: "Check that the guest directory exists and is writable.",
    });
  }
}

export async function copyOutOfGuest(guest: Executor, guestPath: string, hostPath?: string): Promise<Uint8Array> {
  checkGuestPath(guestPath);
  const result = await guest.exec(["cat", "--", guestPath], { reject: false });
  if (result.exitCode !== 0) {
    throw new GuestCommandError(result, {
      what: `Copying ${guestPath} out of the guest`,
      hint: "Check that the guest file exists and is readable.",
    });
  }
  if (hostPath !== undefined) await writeFile(hostPath, result.stdoutBytes);
  return result.stdoutBytes;
}

function checkGuestPath(guestPath: string): void {
  if (!guestPath.startsWith("/") || guestPath.includes("\0")) {
    throw new UsageError(`Guest path ${JSON.stringify(guestPath)} must be absolute.`, {
      hint: "Give the full path in the guest, e.g. /tmp/data.bin.",
    });
  }
}

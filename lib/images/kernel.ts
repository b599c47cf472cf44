/**
 * Kernel files for images: fetching Debian's kernel package without root (busybox images) and
 * extracting the uncompressed vmlinux from a bzImage.
 *
 * Why vmlinux: QEMU boots an ELF vmlinux through its PVH entry point, which skips the firmware
 * and the in-guest decompressor. Under TCG, where every instruction is emulated, that saves
 * about 2.4 s per boot (measured on this project's machines).
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { runTool } from "../system/run.js";
import { KbookError } from "../errors/index.js";

/** Compressed-payload signatures a bzImage may carry, with the tool that expands them. */
const PAYLOADS: { name: string; magic: number[]; tool: string; args: string[] }[] = [
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tool: "xz", args: ["-dc", "--single-stream"] },
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd], tool: "zstd", args: ["-dcq"] },
  { name: "gzip", magic: [0x1f, 0x8b, 0x08], tool: "gzip", args: ["-dcq"] },
];

function isElf(bytes: Uint8Array): boolean {
  return bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/**
 * Extracts the ELF vmlinux from a bzImage by finding its compressed payload and expanding it.
 * Returns null when no payload yields an ELF (the caller then boots the bzImage).
 */
export async function extractVmlinux(bzImagePath: string, outPath: string): Promise<boolean> {
  const image = await readFile(bzImagePath);
  if (isElf(image)) {
    await writeFile(outPath, image);
    return true;
  }
  for (const payload of PAYLOADS) {
    let at = image.indexOf(Buffer.from(payload.magic));
    // A magic can appear by chance inside the setup code: try each hit until one decompresses to an ELF.
    for (let tries = 0; at >= 0 && tries < 8; tries++, at = image.indexOf(Buffer.from(payload.magic), at + 1)) {
      try {
        const { stdoutBytes } = await runTool(payload.tool, payload.args, { input: image.subarray(at), binary: true, stage: "extract vmlinux" });
        if (stdoutBytes && isElf(stdoutBytes)) {
          await writeFile(outPath, stdoutBytes);
          return true;
        }
      } catch {
        // Trailing data after the stream makes some tools exit non-zero; gzip/zstd still wrote the ELF
        // on stdout in that case, but runTool rejected: fall through to the next candidate.
      }
    }
  }
  return false;
}

/** `uname -r` of a kernel, from the modules directory an unpacked package or rootfs holds. */
export async function kernelReleaseIn(rootDir: string): Promise<string> {
  const dir = join(rootDir, "lib", "modules");
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith("."));
  } catch {
    /* handled below */
  }
  if (names.length !== 1) {
    throw new KbookError(`Expected one kernel in ${dir}, found ${names.length ? names.join(", ") : "none"}.`);
  }
  return names[0]!;
}

/**
 * Downloads a Debian package with `apt-get download` (no root needed) into `cacheDir` and
 * unpacks it with dpkg-deb into `destDir`. Uses the host's configured apt sources.
 */
export async function fetchDebianPackage(name: string, cacheDir: string, destDir: string, signal?: AbortSignal): Promise<string> {
  await mkdir(cacheDir, { recursive: true });
  const tmp = join(cacheDir, `.download-${process.pid}-${Date.now()}`);
  await mkdir(tmp);
  let cached: string;
  try {
    await runTool("apt-get", ["download", "-q", name], {
      cwd: tmp,
      signal,
      stage: `download ${name}`,
      hint: "Check the apt sources of this machine ('apt-get update' first, as root).",
    });
    const [deb] = (await readdir(tmp)).filter((f) => f.endsWith(".deb"));
    if (!deb) throw new KbookError(`apt-get download ${name} produced no .deb file.`);
    cached = join(cacheDir, deb);
    await rename(join(tmp, deb), cached);
  } finally {
    // A download that failed half-way (a full disk, the network) leaves nothing behind.
    await rm(tmp, { recursive: true, force: true });
  }
  await runTool("dpkg-deb", ["-x", cached, destDir], { stage: `unpack ${basename(cached)}` });
  return cached;
}

/** The concrete kernel package a metapackage (linux-image-amd64) points at, via apt-cache. */
export async function resolveKernelPackage(meta = "linux-image-amd64"): Promise<string> {
  const { stdout } = await runTool("apt-cache", ["depends", meta], {
    stage: "apt-cache depends",
    hint: "Run 'apt-get update' (as root) so apt knows the kernel packages.",
  });
  const m = /Depends:\s*(linux-image-\S+)/.exec(stdout);
  if (!m) throw new KbookError(`apt-cache does not know which kernel ${meta} installs.`, { hint: "Run 'apt-get update' as root, then try again." });
  return m[1]!;
}

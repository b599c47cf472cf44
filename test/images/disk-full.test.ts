/**
 * The host's disk filling up mid-build: the cache on a small tmpfs of its own (mounting needs
 * root, as the Debian image build does), with room for the kernel package but not for
 * unpacking it, so the build runs out of space half-way. One clear error naming the path
 * and the space needed, and nothing partial left in the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { buildImage } from "../../lib/images/index.js";
import { bootVm } from "../../lib/boot/index.js";
import { KbookError } from "../../lib/errors/index.js";
import { cacheRoot } from "../../lib/paths.js";
import { testImage } from "../support/images.js";

const mountPoint = join(tmpdir(), `kbook-small-disk-${process.pid}`);
let mounted = false;
let testCache: string;
let busybox: string;

beforeAll(async () => {
  busybox = (await testImage("busybox")).dir;
  testCache = cacheRoot();
  await mkdir(mountPoint, { recursive: true });
  // Room for the kernel package (68 MB), not for unpacking its modules next to it.
  mounted = (await execa("mount", ["-t", "tmpfs", "-o", "size=120m", "tmpfs", mountPoint], { reject: false })).exitCode === 0;
});

afterAll(async () => {
  process.env.KBOOK_CACHE = testCache;
  if (mounted) await execa("umount", [mountPoint], { reject: false });
  await rm(mountPoint, { recursive: true, force: true });
});

describe("a cache disk that fills up during an image build", () => {
  it("fails once, clearly, and leaves nothing partial", async (context) => {
    if (!mounted) context.skip();
    process.env.KBOOK_CACHE = mountPoint;
    try {
      const error = await buildImage("busybox").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KbookError);
      const e = error as KbookError;
      expect(e.message).toMatch(new RegExp(`^The disk under ${mountPoint}/images filled up while building the busybox image \\(.* free after removing the partial build\\); nothing was kept\\.$`));
      expect(e.hint).toMatch(/needs about 256(\.0)? MiB there while it builds: free some space, or set KBOOK_CACHE to a larger disk/);
      const images = await readdir(join(mountPoint, "images")).catch(() => [] as string[]);
      expect(images).toEqual([]); // no image, no build directory, no lock
      const downloads = await readdir(join(mountPoint, "downloads")).catch(() => [] as string[]);
      expect(downloads.filter((f) => !f.endsWith(".deb"))).toEqual([]); // no half download
    } finally {
      process.env.KBOOK_CACHE = testCache;
    }
  }, 300_000);
});

describe("a cache disk too small for a saved state", () => {
  it("boots all the same, says why it saved nothing in one line, and leaves nothing partial", async (context) => {
    if (!mounted) context.skip();
    await rm(join(mountPoint, "images"), { recursive: true, force: true });
    process.env.KBOOK_CACHE = mountPoint;
    try {
      const lines: string[] = [];
      const vm = await bootVm({ image: busybox, onProgress: (e) => lines.push(`${e.stage}: ${e.message ?? ""}`) });
      try {
        expect(vm.startedFrom.kind).toBe("cold");
        expect(vm.savedStateKey).toBeUndefined();
        const warnings = lines.filter((l) => l.includes("warning"));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(new RegExp(`^save: warning: could not save the booted guest: ${mountPoint}/states has .* free; saving this guest may need up to 1\\.1 GiB \\(Free space there, or set KBOOK_CACHE to a disk with more room\\); the next boot boots cold too$`));
        expect((await vm.exec(["echo", "fine"])).stdout).toBe("fine\n");
      } finally {
        await vm.shutdown();
      }
      const states = await readdir(join(mountPoint, "states")).catch(() => [] as string[]);
      expect(states.filter((n) => !n.startsWith(".fingerprints"))).toEqual([]);
    } finally {
      process.env.KBOOK_CACHE = testCache;
    }
  }, 120_000);
});

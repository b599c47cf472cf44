/**
 * Real image builds (busybox: seconds, no root) into a private cache: cache hits, the lock
 * between concurrent builds, and interrupted builds that leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildImage, listImages, sha256File } from "../../lib/images/index.js";

const cli = resolve("dist/lib/cli/main.js");
let cache: string;
let saved: string | undefined;

beforeAll(async () => {
  cache = await mkdtemp(join(tmpdir(), "kbook-build-test-"));
  saved = process.env.KBOOK_CACHE;
  process.env.KBOOK_CACHE = cache;
});
afterAll(async () => {
  process.env.KBOOK_CACHE = saved;
  await rm(cache, { recursive: true, force: true });
});

describe("image builds", () => {
  it("an interrupted build leaves no image and no temp directory", async () => {
    const controller = new AbortController();
    const build = buildImage("busybox", {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === "initramfs" || e.stage === "symbols") controller.abort();
      },
    });
    await expect(build).rejects.toThrow();
    const left = await readdir(join(cache, "images")).catch(() => []);
    expect(left.filter((n) => !n.endsWith(".lock") && n !== "downloads")).toEqual([]);
    expect(await listImages()).toEqual([]);
  });

  it("two concurrent builds of one recipe (two processes) build once and agree", async () => {
    const env = { ...process.env, KBOOK_CACHE: cache };
    const [a, b] = await Promise.all([
      execa("node", [cli, "image", "build", "busybox"], { env, all: true }),
      execa("node", [cli, "image", "build", "busybox"], { env, all: true }),
    ]);
    expect(a.stdout.trim()).toBe(b.stdout.trim());
    expect(`${a.all}\n${b.all}`).toMatch(/another build of busybox-\w+ is running|is in the cache/);
    const images = await listImages();
    expect(images).toHaveLength(1);
    const { manifest, dir } = images[0]!;
    expect(manifest.layout.kernelRelease).toMatch(/-amd64$/);
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(["vmlinuz", "vmlinux", "initrd.img", "kallsyms"]));
    // The manifest's hashes are the files' hashes, and the files are read-only.
    expect(await sha256File(join(dir, "initrd.img"))).toBe(manifest.files["initrd.img"]!.sha256);
    expect((await stat(join(dir, "initrd.img"))).mode & 0o222).toBe(0);
    const kallsyms = await import("node:fs/promises").then((fs) => fs.readFile(join(dir, "kallsyms"), "utf8"));
    expect(kallsyms).toMatch(/^ffffffff8[0-9a-f]{7} T _text$/m);
    expect(kallsyms).toMatch(/^ffffffff8[0-9a-f]{7} [tT] do_sys_openat2$/m);
  });

  it("a second build of the same recipe is a cache hit", async () => {
    const started = Date.now();
    const image = await buildImage("busybox");
    expect(image.cached).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("kbook image list/path/rm work on the cache", async () => {
    const env = { ...process.env, KBOOK_CACHE: cache };
    const list = await execa("node", [cli, "image", "list"], { env });
    expect(list.stdout).toMatch(/^busybox-[0-9a-f]{16}  kernel \S+-amd64 /m);
    const path = await execa("node", [cli, "image", "path", "busybox"], { env });
    expect(path.stdout.trim()).toMatch(/images\/busybox-[0-9a-f]{16}$/);
    const unknown = await execa("node", [cli, "image", "build", "fedora"], { env, reject: false });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown image recipe 'fedora'.*\n.*Known recipes: debian, busybox/);
    expect(unknown.stderr).not.toMatch(/\s+at /);
    const rm = await execa("node", [cli, "image", "rm", "busybox"], { env });
    expect(rm.stdout).toMatch(/^removed busybox-/);
    expect(await listImages()).toEqual([]);
  });
});

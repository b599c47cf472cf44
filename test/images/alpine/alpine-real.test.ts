/**
 * The steps that need real Alpine files: they run only when an Alpine mirror answers (the
 * default CDN, or $KBOOK_ALPINE_MIRROR), and are skipped with a message saying so otherwise.
 * The machines this project is developed on reach no Alpine mirror.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alpineRecipe } from "../../../lib/images/alpine/index.js";
import { fetchApkStatic } from "../../../lib/images/alpine/apk-static.js";
import { cachedDownload, fetchText } from "../../../lib/images/alpine/download.js";
import { loadTrustedKeys } from "../../../lib/images/alpine/keys.js";
import { resolveReleaseFile } from "../../../lib/images/alpine/mirror.js";
import { DEFAULT_ALPINE_MIRROR } from "../../../lib/images/alpine/options.js";
import { ProgressReporter } from "../../../lib/progress/index.js";

const MIRROR = (process.env.KBOOK_ALPINE_MIRROR ?? DEFAULT_ALPINE_MIRROR).replace(/\/+$/, "");
const probeUrl = `${MIRROR}/latest-stable/releases/x86_64/latest-releases.yaml`;
const reachable = await fetch(probeUrl, { signal: AbortSignal.timeout(8000) }).then(
  (r) => r.ok,
  () => false,
);
if (!reachable) console.log(`alpine-real: skipped: no Alpine mirror reachable at ${probeUrl} (set KBOOK_ALPINE_MIRROR to use another).`);

describe.skipIf(!reachable)(`with a reachable Alpine mirror (${MIRROR})`, () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "kbook-alpine-real-"));

  it("downloads the latest minirootfs and verifies its published sha256", async () => {
    const release = await resolveReleaseFile({ mirror: MIRROR, release: "latest-stable", arch: "x86_64", flavor: "alpine-minirootfs", fetchText: (u) => fetchText(u) });
    const { path } = await cachedDownload({ cacheDir, url: release.url, sha256: release.sha256 });
    expect(readFileSync(path).length).toBeGreaterThan(1_000_000);
  });

  it("verifies the real APKINDEX and apk-tools-static with the key kbook ships", async () => {
    const release = await resolveReleaseFile({ mirror: MIRROR, release: "latest-stable", arch: "x86_64", flavor: "alpine-minirootfs", fetchText: (u) => fetchText(u) });
    const apk = await fetchApkStatic({ mirror: MIRROR, branch: release.branch, arch: "x86_64", keys: await loadTrustedKeys(), cacheDir, destDir: join(cacheDir, "bin") });
    expect(apk.signer).toMatch(/^alpine-devel@lists\.alpinelinux\.org-/);
    expect(readFileSync(apk.path).subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  });

  it.skipIf(process.getuid?.() !== 0)("builds the alpine image (root)", { timeout: 1_200_000 }, async () => {
    const workDir = mkdtempSync(join(tmpdir(), "kbook-alpine-image-"));
    const layout = await alpineRecipe.build(alpineRecipe.normalize({ mirror: MIRROR }), { workDir, cacheDir, progress: new ProgressReporter() });
    expect(layout.append).toContain("root=/dev/sda");
    expect(layout.kernelRelease).toMatch(/-virt$/);
    for (const f of [layout.kernel, layout.initrd!, layout.disk!.file]) expect(existsSync(join(workDir, f))).toBe(true);
    expect(Object.keys(layout.versions)).toEqual(expect.arrayContaining(["perf", "bpftrace", "openrc"]));
  });
});

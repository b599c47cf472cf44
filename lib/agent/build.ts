/**
 * Building the guest agent: assets/guest/agent.c compiled on the host into one static binary
 * that runs unchanged on busybox, Debian (glibc) and Alpine (musl) guests, cached under a path
 * named by the hash of its source and flags.
 */
import { createHash, randomBytes } from "node:crypto";
import { access, constants, mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { assetPath, cacheRoot } from "../paths.js";
import { runTool } from "../system/run.js";

// -static: no dependency on the guest's libc. The agent avoids NSS (getpwnam & co.), the one
// part of static glibc that would still want the guest's shared libraries.
const AGENT_CFLAGS = ["-static", "-Os", "-s", "-Wall", "-Wextra"];

const builds = new Map<string, Promise<string>>();

/** Path of the compiled agent, building it unless the cache already holds this source's build. */
export async function buildAgent(options: { cacheDir?: string } = {}): Promise<string> {
  const sourcePath = assetPath("guest", "agent.c");
  const source = await readFile(sourcePath);
  const hash = createHash("sha256").update(JSON.stringify(AGENT_CFLAGS)).update("\0").update(source).digest("hex").slice(0, 16);
  const target = join(options.cacheDir ?? cacheRoot(), "agent", `kbook-agent-${hash}`);
  let build = builds.get(target);
  if (!build) {
    build = compileOnce(sourcePath, hash, target);
    builds.set(target, build);
    build.catch(() => builds.delete(target));
  }
  return build;
}

async function compileOnce(sourcePath: string, hash: string, target: string): Promise<string> {
  try {
    await access(target, constants.X_OK);
    return target;
  } catch {
    /* not built yet */
  }
  await mkdir(join(target, ".."), { recursive: true });
  // Concurrent builders each write their own temp file; the rename makes whichever finishes
  // last win with identical content, and no reader ever sees a partial binary.
  const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await runTool("gcc", [...AGENT_CFLAGS, `-DKBOOK_AGENT_BUILD="${hash}"`, "-o", temp, sourcePath], {
      stage: "compiling the guest agent",
      hint: "A static build needs gcc and the C library's static archive (Debian: apt-get install gcc libc6-dev).",
    });
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return target;
}

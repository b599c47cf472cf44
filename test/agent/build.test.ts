import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { buildAgent } from "../../lib/agent/index.js";
import { KbookError } from "../../lib/errors/index.js";

let cacheDir: string;

/** The ELF's PT_INTERP (dynamic loader) path; null for a static binary, which runs on any libc. */
async function programInterpreter(path: string): Promise<string | null> {
  const elf = await readFile(path);
  expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 3) continue;
    const offset = Number(elf.readBigUInt64LE(ph + 8));
    const size = Number(elf.readBigUInt64LE(ph + 32));
    return elf.subarray(offset, offset + size - 1).toString();
  }
  return null;
}

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "kbook-agent-build-"));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe("buildAgent", () => {
  it("compiles a static binary under a content-hashed path, then reuses it", async () => {
    const path = await buildAgent({ cacheDir });
    expect(path.startsWith(join(cacheDir, "agent"))).toBe(true);
    const hash = /^kbook-agent-([0-9a-f]{16})$/.exec(basename(path))?.[1];
    expect(hash).toBeDefined();
    expect(await programInterpreter(path)).toBeNull();
    const { stdout } = await execa(path, ["--version"]);
    expect(stdout).toBe(`kbook-agent 1.0+${hash} protocol 1`);

    const before = (await stat(path)).mtimeMs;
    expect(await buildAgent({ cacheDir })).toBe(path);
    expect((await stat(path)).mtimeMs).toBe(before);
    expect(await readdir(join(cacheDir, "agent"))).toEqual([basename(path)]);
  });

  it("says what to install when gcc is missing", async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      const error = await buildAgent({ cacheDir: join(cacheDir, "nogcc") }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KbookError);
      expect((error as KbookError).message).toMatch(/compiling the guest agent: 'gcc' is not installed/);
      expect((error as KbookError).hint).toMatch(/kbook doctor --install/);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtemp, readFile, readlink, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCpio } from "../../lib/cpio/index.js";

describe("buildCpio", () => {
  it("writes a newc archive that busybox cpio extracts with modes, links and binary data", async () => {
    const binary = Buffer.from(Array.from({ length: 1003 }, (_, i) => (i * 7) & 0xff));
    const archive = buildCpio([
      { path: "bin", type: "dir", mode: 0o755 },
      { path: "bin/tool", type: "file", mode: 0o755, data: binary },
      { path: "bin/alias", type: "symlink", mode: 0o777, data: "tool" },
      { path: "etc", type: "dir", mode: 0o700 },
      { path: "etc/motd", type: "file", mode: 0o644, data: "hello\n" },
    ]);
    expect(archive.length % 4).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), "kbook-cpio-"));
    // Debian's busybox-static has a cpio applet; the host need not have GNU cpio.
    await execa("busybox", ["cpio", "-id"], { cwd: dir, input: archive });
    expect(Buffer.compare(await readFile(join(dir, "bin/tool")), binary)).toBe(0);
    expect((await stat(join(dir, "bin/tool"))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(dir, "bin/alias"))).toBe("tool");
    expect((await stat(join(dir, "etc"))).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, "etc/motd"), "utf8")).toBe("hello\n");
  });
});

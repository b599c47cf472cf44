/**
 * A host folder shared with the guest over 9p, mounted at /mnt/host.
 */
import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootVm } from "../../lib/boot/index.js";
import { UsageError } from "../../lib/errors/index.js";
import { testImage } from "../support/images.js";

describe("shared folder", () => {
  it("is mounted at /mnt/host, readable and writable both ways", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kbook-share-"));
    await writeFile(join(dir, "from-host.txt"), "hello from the host\n");
    const vm = await bootVm({ image: (await testImage("busybox")).dir, share: dir });
    try {
      expect((await vm.exec(["cat", "/mnt/host/from-host.txt"])).stdout).toBe("hello from the host\n");
      await vm.exec("echo 'hello from the guest' > /mnt/host/from-guest.txt && sync");
    } finally {
      await vm.shutdown();
    }
    expect(await readFile(join(dir, "from-guest.txt"), "utf8")).toBe("hello from the guest\n");
  });

  it("rejects a folder that does not exist before QEMU starts", async () => {
    await expect(bootVm({ image: (await testImage("busybox")).dir, share: "/no/such/folder" })).rejects.toThrow(UsageError);
  });
});

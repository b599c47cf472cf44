import { describe, expect, it } from "vitest";
import { readModinfo } from "../../lib/images/kmod.js";

describe("readModinfo", () => {
  it("reads name and depends from a module's .modinfo strings", () => {
    const bytes = Buffer.from("\x7fELF....\0license=GPL\0depends=libata,scsi_mod\0retpoline=Y\0name=ata_piix\0vermagic=6.1.0 SMP\0");
    expect(readModinfo(bytes)).toEqual({ name: "ata_piix", depends: ["libata", "scsi_mod"] });
  });
  it("treats an empty depends as no dependencies", () => {
    expect(readModinfo(Buffer.from("\0depends=\0name=virtio\0")).depends).toEqual([]);
  });
});

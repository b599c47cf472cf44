import { describe, expect, it } from "vitest";
import { dpkgVersions, mirrorFromSources } from "../../lib/images/apt-sources.js";

describe("mirrorFromSources", () => {
  it("reads deb822 sources and skips the security archive", () => {
    const text = [
      "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main",
      "Types: deb\nURIs: http://mirror.local/debian/\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /x",
    ].join("\n\n");
    expect(mirrorFromSources([{ name: "/etc/apt/sources.list.d/debian.sources", text }])).toBe("http://mirror.local/debian");
  });
  it("reads one-line sources, with options", () => {
    const text = "# comment\ndeb [arch=amd64] http://ftp.example/debian bookworm main contrib\n";
    expect(mirrorFromSources([{ name: "/etc/apt/sources.list", text }])).toBe("http://ftp.example/debian");
  });
  it("returns undefined when nothing serves main", () => {
    expect(mirrorFromSources([{ name: "a.list", text: "deb http://x/debian bookworm contrib\n" }])).toBeUndefined();
  });
});

describe("dpkgVersions", () => {
  it("picks installed versions of the named packages", () => {
    const status = "Package: bpftrace\nStatus: install ok installed\nVersion: 0.17.0-1\n\nPackage: linux-perf\nStatus: deinstall ok config-files\nVersion: 6.1\n\nPackage: gdb\nStatus: install ok installed\nVersion: 13\n";
    expect(dpkgVersions(status, ["bpftrace", "linux-perf"])).toEqual({ bpftrace: "0.17.0-1" });
  });
});

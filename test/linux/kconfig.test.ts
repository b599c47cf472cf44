import { describe, expect, it } from "vitest";
import { closestNames } from "../../lib/bpftrace/diagnostics.js";
import {
  checkRequests,
  diffConfigs,
  expressionSymbols,
  mergeConfig,
  parseConfigFragment,
  parseConfigSet,
  parseDotConfig,
  parseKconfigFile,
  type KconfigSymbol,
} from "../../lib/linux/kconfig.js";
import { missingRequirements } from "../../lib/linux/requirements.js";
import { UsageError } from "../../lib/errors/index.js";

const KCONFIG = `
config MODULES
	bool "Enable loadable module support"

menuconfig KPROBES
	bool "Kprobes"
	depends on MODULES
	depends on HAVE_KPROBES && !FOO

config 9P_FS
	tristate "Plan 9 Resource Sharing Support (9P2000)"
	depends on INET && NET_9P
	select NETFS_SUPPORT

choice
	prompt "Debug information"
config DEBUG_INFO_DWARF5
	bool "DWARF 5"
endchoice
`;

function symbols(): Map<string, KconfigSymbol> {
  const map = new Map<string, KconfigSymbol>();
  parseKconfigFile(KCONFIG, "test/Kconfig", map);
  return map;
}

describe("config fragments", () => {
  it("parses assignments, unset lines and comments, and names a bad line", () => {
    const requests = parseConfigFragment('# a comment\n\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\nCONFIG_D=0x10\n', "f.config");
    expect(requests.map((r) => [r.symbol, r.value, r.origin])).toEqual([
      ["A", "y", "f.config:3"],
      ["B", "n", "f.config:4"],
      ["C", '"x y"', "f.config:5"],
      ["D", "0x10", "f.config:6"],
    ]);
    expect(() => parseConfigFragment("CONFIG_A=y\nKPROBES=y\n", "mine.config")).toThrow(/mine\.config:2: 'KPROBES=y' is not a kernel config line/);
    expect(() => parseConfigFragment("CONFIG_A=yes please\n", "x")).toThrow(UsageError);
  });

  it("parses --set with or without the CONFIG_ prefix", () => {
    expect(parseConfigSet("CONFIG_X=y")).toMatchObject({ symbol: "X", value: "y", origin: "--set" });
    expect(parseConfigSet("LOG_BUF_SHIFT=18")).toMatchObject({ symbol: "LOG_BUF_SHIFT", value: "18" });
    expect(() => parseConfigSet("CONFIG_X")).toThrow(/expected CONFIG_NAME=y\|n\|m\|VALUE/);
  });

  it("merges like merge_config.sh: old lines removed, new ones appended in order", () => {
    const base = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\n";
    const merged = mergeConfig(base, parseConfigFragment("CONFIG_B=y\n# CONFIG_A is not set\nCONFIG_B=m\n", "f"));
    expect(merged).toBe("CONFIG_C=m\n# CONFIG_A is not set\nCONFIG_B=m\n");
    expect(parseDotConfig(merged)).toEqual(new Map([["C", "m"], ["A", "n"], ["B", "m"]]));
  });
});

describe("checking requests against the final config", () => {
  it("finds symbols and their dependencies in Kconfig text", () => {
    const map = symbols();
    expect(map.get("KPROBES")).toMatchObject({ file: "test/Kconfig", line: 5, dependsOn: ["MODULES", "HAVE_KPROBES && !FOO"] });
    expect(map.get("9P_FS")?.dependsOn).toEqual(["INET && NET_9P"]);
    expect(map.has("DEBUG_INFO_DWARF5")).toBe(true);
    expect(expressionSymbols("HAVE_KPROBES && !(FOO || BAR=y)")).toEqual(["HAVE_KPROBES", "FOO", "BAR"]);
  });

  it("names the unmet dependency of a dropped option and the closest names of an unknown one", () => {
    const final = parseDotConfig("CONFIG_HAVE_KPROBES=y\nCONFIG_INET=y\n# CONFIG_MODULES is not set\n");
    const requests = parseConfigFragment("CONFIG_KPROBES=y\nCONFIG_9P_FS=y\nCONFIG_KPROBEZ=y\nCONFIG_HAVE_KPROBES=y\n", "learn.config");
    let reads = 0;
    const outcomes = checkRequests(requests, final, () => (reads++, symbols()), closestNames);
    expect(reads).toBe(1);
    const byName = Object.fromEntries(outcomes.map((o) => [o.request.symbol, o]));
    expect(Object.keys(byName).sort()).toEqual(["9P_FS", "KPROBES", "KPROBEZ"]);
    expect(byName.KPROBES).toMatchObject({ problem: "dropped", unmet: ["MODULES"] });
    expect(byName.KPROBES!.message).toBe("CONFIG_KPROBES=y (learn.config:1) was dropped by olddefconfig (now not set): it depends on CONFIG_MODULES, which is not set.");
    expect(byName["9P_FS"]).toMatchObject({ problem: "dropped", unmet: ["NET_9P"] });
    expect(byName.KPROBEZ).toMatchObject({ problem: "unknown" });
    expect(byName.KPROBEZ!.message).toMatch(/CONFIG_KPROBEZ \(learn\.config:3\) is not an option of this kernel; did you mean CONFIG_KPROBES/);
  });

  it("reads no Kconfig file when every request held", () => {
    const outcomes = checkRequests(parseConfigFragment("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_N=0x10\n", "f"), parseDotConfig("CONFIG_A=y\nCONFIG_N=16\n"), () => {
      throw new Error("read Kconfig");
    }, closestNames);
    expect(outcomes).toEqual([]);
  });

  it("diffs two configs", () => {
    expect(diffConfigs(parseDotConfig("CONFIG_A=y\nCONFIG_B=y\n"), parseDotConfig("CONFIG_B=m\nCONFIG_C=y\n"))).toEqual([
      { symbol: "A", from: "y", to: "n" },
      { symbol: "B", from: "y", to: "m" },
      { symbol: "C", from: "n", to: "y" },
    ]);
  });
});

describe("what a kernel needs to boot on an image", () => {
  it("names missing built-ins for this boot only", () => {
    const config = parseDotConfig("CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_CONSOLE=m\nCONFIG_SERIAL_8250_CONSOLE=y\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_DEVTMPFS=y\nCONFIG_BINFMT_SCRIPT=y\n");
    expect(missingRequirements(config, { disk: false, share: false, vmlinux: false }).map((m) => m.requirement.symbol)).toEqual(["VIRTIO_CONSOLE"]);
    expect(missingRequirements(config, { disk: true, share: true, vmlinux: true }).map((m) => m.requirement.symbol)).toEqual([
      "VIRTIO_CONSOLE", "ATA_PIIX", "BLK_DEV_SD", "EXT4_FS", "9P_FS", "NET_9P_VIRTIO", "PVH",
    ]);
  });
});

import { describe, expect, test } from "vitest";
import { defaultMagics, parseMagicCell, tokenizeMagicLine } from "../../kernel/magics/index.js";

describe("cell magic parsing", () => {
  test("a magic cell is %%name on the first line, the rest is the body", () => {
    expect(parseMagicCell("%%bpftrace --duration 5s\nprofile:hz:99 { @[kstack] = count(); }\n")).toEqual({
      name: "bpftrace",
      argsText: "--duration 5s",
      body: "profile:hz:99 { @[kstack] = count(); }\n",
    });
    expect(parseMagicCell("%%sh")).toEqual({ name: "sh", argsText: "", body: "" });
    expect(parseMagicCell("const x = 1 %% 2")).toBeUndefined();
    expect(parseMagicCell("// %%sh\necho")).toBeUndefined();
  });

  test("the magic line splits like a shell, and the text after -- stays verbatim", () => {
    expect(tokenizeMagicLine(`--out "my result" -a 'x y'`)).toEqual({ tokens: ["--out", "my result", "-a", "x y"], command: "" });
    expect(tokenizeMagicLine("-F 999 -a -g -- dd if=/dev/zero of='/tmp/a b' count=10")).toEqual({
      tokens: ["-F", "999", "-a", "-g"],
      command: "dd if=/dev/zero of='/tmp/a b' count=10",
    });
    expect(() => tokenizeMagicLine(`--out "open`)).toThrow(/Unclosed/);
  });

  test("each magic's options are parsed from its declaration", () => {
    const magics = defaultMagics();
    const perf = magics.get("perf");
    const parsed = magics.parseArguments(perf, "-F 999 -a -g --out prof -- sleep 1");
    expect(parsed.options).toMatchObject({ frequency: "999", "all-cpus": true, "call-graph": true, out: "prof" });
    expect(parsed.command).toBe("sleep 1");
    expect(magics.parseArguments(magics.get("bpftrace"), "--duration 5s --vm vm2").options).toMatchObject({ duration: "5s", vm: "vm2" });
  });

  test("unknown magics and options are usage errors that say what exists", () => {
    const magics = defaultMagics();
    expect(() => magics.get("python")).toThrow(/Unknown cell magic '%%python'/);
    expect(() => magics.parseArguments(magics.get("sh"), "--bogus")).toThrow(/%%sh: Unknown option '--bogus'/);
    expect(magics.names()).toEqual(["sh", "host", "bpftrace", "perf", "gdb"]);
  });
});

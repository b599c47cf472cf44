import { execaSync } from "execa";
import { describe, expect, it } from "vitest";
import { frameColor, nameHash, nameSeededRandom, renderFlameGraph, PALETTES } from "../../lib/flamegraph/index.js";
import { drawnFrames } from "./svg-titles.js";

function rgb(text: string): [number, number, number] {
  const m = /^rgb\((\d+),(\d+),(\d+)\)$/.exec(text)!;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

describe("colours", () => {
  const names = ["", "main", "native_safe_halt", "java/lang/Thread:::run", "caf\u00e9", "\u{1F525}fire", "x".repeat(100)];

  it("default colours come from Perl's srand(sum of code points) + rand, as flamegraph.pl's", () => {
    const perl = execaSync("perl", ["-CSA", "-e", 'for (@ARGV) { srand(unpack("%32W*", $_)); printf "%.17g\\n", rand(1) }', ...names.filter((n) => n !== "")]).stdout.split("\n");
    names.filter((n) => n !== "").forEach((name, i) => expect(nameSeededRandom(name)).toBe(Number(perl[i])));
    expect(frameColor("hot", "name", "main")).toBe(frameColor("hot", "name", "main"));
  });

  it("every palette stays in its hue range", () => {
    for (const palette of PALETTES) {
      for (const name of names) {
        const [r, g, b] = rgb(frameColor(palette, "name", name));
        for (const v of [r, g, b]) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(255);
        if (palette === "hot") expect(r).toBeGreaterThanOrEqual(205), expect(g).toBeLessThanOrEqual(230), expect(b).toBeLessThanOrEqual(55);
        if (palette === "blue") expect(b).toBeGreaterThan(r);
        if (palette === "green") expect(g).toBeGreaterThan(r);
      }
    }
  });

  it("java palette: kernel, JIT, inlined and user frames get distinct hues", () => {
    const hue = (name: string) => {
      const [r, g, b] = rgb(frameColor("java", "name", name));
      if (r > 150 && g < 160 && b === 0) return "orange";
      if (g > r && g > b) return r < 120 && b > 150 ? "aqua" : "green";
      if (r > 150 && g > 150 && b < 100) return "yellow";
      if (b > 150 && g > 150) return "aqua";
      return "red";
    };
    expect(hue("do_syscall_64_[k]")).toBe("orange");
    expect(hue("Lcom/Foo:::bar_[j]")).toBe("green");
    expect(hue("inner_[i]")).toBe("aqua");
    expect(hue("JavaCalls::call_helper")).toBe("yellow");
    expect(hue("__libc_write")).toBe("red");
  });

  it("--hash colours by name hash, --random at random, and '-'/'--' are grey", () => {
    expect(nameHash("abc")).toBeCloseTo(nameHash("abcdef"), 12); // only the first three characters count
    expect(nameHash("mod`abc")).toBe(nameHash("abc"));
    const svg = renderFlameGraph("main;-;--;x 5\n", { hash: true });
    const fills = Object.fromEntries(drawnFrames(svg).map((f) => [f.title.split(" ")[0], f.fill]));
    expect(fills["-"]).toBe("rgb(200,200,200)");
    expect(fills["--"]).toBe("rgb(160,160,160)");
    expect(fills["x"]).toBe(frameColor("hot", "hash", "x"));
  });

  it("a consistent palette reuses and records colours", () => {
    const palette = new Map([["main", "rgb(1,2,3)"]]);
    const frames = drawnFrames(renderFlameGraph("main;a 5\n", { consistentPalette: palette }));
    expect(frames.find((f) => f.title.startsWith("main "))!.fill).toBe("rgb(1,2,3)");
    expect(palette.get("a")).toBe(frames.find((f) => f.title.startsWith("a "))!.fill);
  });
});

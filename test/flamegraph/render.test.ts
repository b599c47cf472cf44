import { readFileSync } from "node:fs";
import { execaSync } from "execa";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors/index.js";
import { renderFlameGraph, renderFlameGraphDetailed } from "../../lib/flamegraph/index.js";
import { collapsePerfScriptFile } from "../../lib/perf/index.js";
import { CAPTURES, COLLAPSE_FLAGS, GUEST_DD_FOLDED, capturePath } from "../perf/captures.js";
import { drawnFrames } from "./svg-titles.js";

/**
 * flamegraph.pl's frames, worked out independently: sort the lines as text, then a frame is a
 * run of consecutive lines that share the same frames from the root down to it. Counts and
 * percentages are formatted by Perl's own sprintf.
 */
function expectedTitles(folded: string): string[] {
  const lines = folded.split("\n").filter((l) => l !== "").sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rows = lines.map((l) => {
    const cut = l.lastIndexOf(" ");
    const frames = l.slice(0, cut).split(";");
    while (frames.at(-1) === "") frames.pop();
    return { frames, count: Number(l.slice(cut + 1)) };
  });
  const total = rows.reduce((s, r) => s + r.count, 0);
  const spans: { name: string; count: number }[] = [];
  const maxDepth = Math.max(...rows.map((r) => r.frames.length));
  for (let depth = 0; depth < maxDepth; depth++) {
    let i = 0;
    while (i < rows.length) {
      if (rows[i]!.frames.length <= depth) {
        i++;
        continue;
      }
      const prefix = rows[i]!.frames.slice(0, depth + 1).join("\u0000");
      let count = 0;
      let j = i;
      while (j < rows.length && rows[j]!.frames.length > depth && rows[j]!.frames.slice(0, depth + 1).join("\u0000") === prefix) count += rows[j++]!.count;
      spans.push({ name: rows[i]!.frames[depth]!, count });
      i = j;
    }
  }
  const perl = execaSync("perl", ["-ne", 'chomp; my ($c, $t) = split / /; my $s = sprintf "%.0f", $c; (my $x = $s) =~ s/(\\d)(?=(\\d{3})+$)/$1,/g; printf "%s %.2f\\n", $x, 100 * $s / $t'], {
    input: spans.map((s) => `${s.count} ${total}`).join("\n") + "\n",
  }).stdout.split("\n");
  const root = execaSync("perl", ["-e", '(my $x = sprintf "%.0f", shift) =~ s/(\\d)(?=(\\d{3})+$)/$1,/g; print $x', String(total)]).stdout;
  const titles = spans.map((s, k) => {
    const [count, pct] = perl[k]!.split(" ");
    return `${s.name.replace(/_\[[kwij]\]$/, "")} (${count} samples, ${pct}%)`;
  });
  return [`all (${root} samples, 100%)`, ...titles].sort();
}

describe("same frames, counts and percentages as flamegraph.pl", () => {
  // Folded stacks of every kind the collapser writes: kbook's captures with each flag.
  const cases = CAPTURES.flatMap((name) => COLLAPSE_FLAGS.map((flag) => [name, flag] as const));
  it.each(cases)("%s --%s", (name, flag) => {
    const folded = collapsePerfScriptFile(capturePath(name), { [flag]: true }).folded.toString();
    const titles = drawnFrames(renderFlameGraph(folded, { minwidth: 0 })).map((f) => f.title).sort();
    expect(titles).toEqual(expectedTitles(folded));
  });

  it("--minwidth leaves out exactly the frames narrower than it", () => {
    const folded = readFileSync(GUEST_DD_FOLDED, "utf8");
    const all = renderFlameGraphDetailed(folded, { minwidth: 0 });
    // A sample of guest-dd is about 6 pixels wide: 0.1 leaves out nothing, 7 and 1% do.
    for (const minwidth of ["0.1", "7", "1%"]) {
      const pruned = renderFlameGraphDetailed(folded, { minwidth });
      const frames = drawnFrames(pruned.svg);
      const allFrames = drawnFrames(all.svg);
      const rootCount = Number(/^all \(([\d,]+)/.exec(allFrames.find((f) => f.title.startsWith("all "))!.title)![1]!.replace(/,/g, ""));
      const limit = minwidth.endsWith("%") ? (rootCount * parseFloat(minwidth)) / 100 : parseFloat(minwidth) / (1180 / rootCount);
      const count = (t: string) => Number(/ \(([\d,]+) samples/.exec(t)![1]!.replace(/,/g, ""));
      expect(frames.length).toBe(allFrames.filter((f) => count(f.title) >= limit).length);
      expect(pruned.frames + pruned.pruned).toBe(all.frames);
      expect(pruned.pruned > 0).toBe(minwidth !== "0.1");
    }
  });
});

describe("escaping", () => {
  it("shows a symbol such as <script>alert(1)</script> as text", () => {
    const evil = `main;<script>alert(1)</script>;a&b "quoted" 'single' 5\nmain;x 3\n`;
    const svg = renderFlameGraph(evil, { title: "<b>title</b>", subtitle: "</text><script>alert(2)</script>", notes: "--> <!--", countname: "<i>", nametype: "</script>" });
    expect(svg).not.toMatch(/<script>alert/);
    expect(svg).not.toMatch(/<b>|<i>/);
    expect(svg).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const titles = drawnFrames(svg).map((f) => f.title);
    expect(titles).toContain("<script>alert(1)</script> (5 <i>, 62.50%)");
    // The SVG is well-formed XML with exactly one script element (ours).
    const check = execaSync("python3", ["-c", "import sys, xml.dom.minidom as m; d = m.parseString(sys.stdin.buffer.read()); print(len(d.getElementsByTagName('script')))"], { input: svg });
    expect(check.stdout.trim()).toBe("1");
  });

  it("replaces characters XML cannot carry", () => {
    const svg = renderFlameGraph("a\u0001b;c\u0000d;e\uffff 3\n", { minwidth: 0 });
    const check = execaSync("python3", ["-c", "import sys, xml.dom.minidom as m; m.parseString(sys.stdin.buffer.read()); print('ok')"], { input: svg, reject: false });
    expect(check.stdout.trim()).toBe("ok");
  });
});

describe("layout and options", () => {
  const folded = "main;a;b 30\nmain;a;c 10\nmain;d 60\n";

  it("draws the root at the bottom, or at the top when inverted", () => {
    const normal = drawnFrames(renderFlameGraph(folded));
    const inverted = drawnFrames(renderFlameGraph(folded, { inverted: true }));
    const root = (frames: typeof normal) => frames.find((f) => f.title.startsWith("all "))!;
    const leaf = (frames: typeof normal) => frames.find((f) => f.title.startsWith("b "))!;
    expect(root(normal).y).toBeGreaterThan(leaf(normal).y);
    expect(root(inverted).y).toBeLessThan(leaf(inverted).y);
    expect(renderFlameGraph(folded, { inverted: true })).toContain(">Icicle Graph</text>");
  });

  it("sorts frames alphabetically, or keeps input order in a flame chart", () => {
    const chart = "main;z 1\nmain;a 1\nmain;z 1\n";
    const sorted = drawnFrames(renderFlameGraph(chart, { minwidth: 0 })).filter((f) => /^[az] /.test(f.title));
    expect(sorted.map((f) => f.title[0])).toEqual(["a", "z"]);
    const flame = drawnFrames(renderFlameGraph(chart, { flamechart: true, minwidth: 0 })).filter((f) => /^[az] /.test(f.title));
    expect(flame.sort((p, q) => p.x - q.x).map((f) => f.title[0])).toEqual(["z", "a", "z"]);
    expect(renderFlameGraph(chart, { flamechart: true })).toContain(">Flame Chart</text>");
  });

  it("reverses stacks", () => {
    const titles = drawnFrames(renderFlameGraph(folded, { reverse: true })).map((f) => f.title);
    expect(titles.sort()).toEqual(
      [
        "all (100 samples, 100%)",
        "b (30 samples, 30.00%)", "a (30 samples, 30.00%)", "main (30 samples, 30.00%)",
        "c (10 samples, 10.00%)", "a (10 samples, 10.00%)", "main (10 samples, 10.00%)",
        "d (60 samples, 60.00%)", "main (60 samples, 60.00%)",
      ].sort(),
    );
  });

  it("applies width, frame height, font, count name, name type, notes and background", () => {
    const svg = renderFlameGraph(folded, { width: 800, height: 20, fontsize: 10, fonttype: "monospace", countname: "bytes", nametype: "Frame:", notes: "hello", bgcolors: "#123456" });
    expect(svg).toMatch(/<svg [^>]*width="800" height="(\d+)"/);
    expect(drawnFrames(svg).find((f) => f.title.startsWith("all "))!.title).toBe("all (100 bytes, 100%)");
    expect(svg).toContain("font-family: monospace; font-size: 10px;");
    expect(svg).toContain('"nametype":"Frame:"');
    expect(svg).toContain("<!-- NOTES: hello -->");
    expect(svg).toContain('stop-color="#123456"');
    expect(svg).toMatch(/height="19.0" fill/);
  });

  it("labels frames that fit, cutting with '..'", () => {
    const long = `main;${"x".repeat(300)} 1\n`;
    const label = drawnFrames(renderFlameGraph(long)).find((f) => f.title.startsWith("xxx"))!.label;
    expect(label.endsWith("..")).toBe(true);
    expect(label.length).toBe(Math.trunc(1180 / (12 * 0.59)));
  });

  it("rejects input without counts, and bad options, with UsageError", () => {
    expect(() => renderFlameGraph("")).toThrow(UsageError);
    expect(() => renderFlameGraph("not folded at all\n")).toThrow(/Line 1 is not a folded stack/);
    expect(() => renderFlameGraph(folded, { colors: "pink" as never })).toThrow(/Unknown palette 'pink'/);
    expect(() => renderFlameGraph(folded, { minwidth: "abc" })).toThrow(/--minwidth 'abc'/);
    expect(() => renderFlameGraph(folded, { bgcolors: "teal" })).toThrow(/background/);
  });
});

describe("differential graphs", () => {
  const diff = "main;a 10 30\nmain;b 30 10\nmain;c 5 5\n";
  it("widths follow the second count, colours and tooltips the delta", () => {
    const frames = drawnFrames(renderFlameGraph(diff));
    const a = frames.find((f) => f.title.startsWith("a "))!;
    const b = frames.find((f) => f.title.startsWith("b "))!;
    const c = frames.find((f) => f.title.startsWith("c "))!;
    expect(a.title).toBe("a (30 samples, 66.67%; +44.44%)");
    expect(b.title).toBe("b (10 samples, 22.22%; -44.44%)");
    expect(c.title).toBe("c (5 samples, 11.11%; 0.00%)");
    expect(a.fill).toBe("rgb(255,0,0)");
    expect(b.fill).toBe("rgb(0,0,255)");
    expect(c.fill).toBe("rgb(255,255,255)");
    const negated = drawnFrames(renderFlameGraph(diff, { negate: true }));
    expect(negated.find((f) => f.title.startsWith("a "))!.fill).toBe("rgb(0,0,255)");
    expect(negated.find((f) => f.title.startsWith("a "))!.title).toBe("a (30 samples, 66.67%; -44.44%)");
  });
});

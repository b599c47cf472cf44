import { describe, expect, it } from "vitest";
import { diffFolded } from "../../lib/flamegraph/index.js";

describe("diffFolded (difffolded.pl)", () => {
  const before = "main;a 10\nmain;b 30\nmain;0x7f12ab 4\n";
  const after = "main;a 30\nmain;c 5\nmain;0x7f99cd 6\n";

  it("lists every stack with both counts, 0 where missing", () => {
    expect(diffFolded(before, after).text).toBe("main;0x7f12ab 4 0\nmain;0x7f99cd 0 6\nmain;a 10 30\nmain;b 30 0\nmain;c 0 5\n");
  });

  it("-s folds hex addresses", () => {
    expect(diffFolded(before, after, { stripHex: true }).text).toBe("main;0x... 4 6\nmain;a 10 30\nmain;b 30 0\nmain;c 0 5\n");
  });

  it("-n scales the first profile to the second's total (integer part)", () => {
    const r = diffFolded(before, after, { normalize: true });
    expect(r.total1).toBe(44);
    expect(r.total2).toBe(41);
    expect(r.text).toBe(`main;0x7f12ab ${Math.trunc((4 * 41) / 44)} 0\nmain;0x7f99cd 0 6\nmain;a ${Math.trunc((10 * 41) / 44)} 30\nmain;b ${Math.trunc((30 * 41) / 44)} 0\nmain;c 0 5\n`);
  });

  it("merges repeated stacks and skips lines that are not folded", () => {
    const r = diffFolded("x 1\nx 2\nnot folded\n", "x 4\n");
    expect(r.text).toBe("x 3 4\n");
    expect(r.ignored).toBe(1);
  });
});

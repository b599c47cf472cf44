import { execaSync } from "execa";
import { describe, expect, it } from "vitest";
import { formatFixed, withCommas, escapeXml } from "../../lib/flamegraph/format.js";
import { formatCount } from "../../lib/flamegraph/folded.js";

describe("numbers as Perl prints them", () => {
  const values = [0, 0.5, 1.5, 2.5, 0.125, 0.375, 1.005, 2.675, 12.345, 99.995, 100, 33.3333333, 66.665, -0.5, -1.5, -0.001, 1e-9, 123456.5, 0.045, 1 / 3];
  it("sprintf %.0f and %.2f (ties to even on the exact binary value)", () => {
    const perl = execaSync("perl", ["-e", 'printf "%.0f %.2f\\n", $_, $_ for @ARGV', "--", ...values.map(String)]).stdout.split("\n");
    values.forEach((v, i) => expect(`${formatFixed(v, 0)} ${formatFixed(v, 2)}`).toBe(perl[i]));
  });
  it("counts in full, other numbers with 15 significant digits", () => {
    const list = [1, 1234567890123, 0.1 + 0.2, 1.5, 1e21, 2 ** 60];
    const perl = execaSync("perl", ["-e", 'print "$_\\n" for (1, 1234567890123, 0.1 + 0.2, 1.5, 1e21, 1152921504606846976)']).stdout.split("\n");
    list.forEach((v, i) => expect(formatCount(v)).toBe(perl[i]));
  });
  it("thousands separators", () => {
    expect(withCommas("1234567")).toBe("1,234,567");
    expect(withCommas("-1234")).toBe("-1,234");
    expect(withCommas("999")).toBe("999");
  });
  it("escapes XML", () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  });
});

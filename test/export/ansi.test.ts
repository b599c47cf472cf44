import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ansiToHtml, stripAnsi } from "../../lib/export/ansi.js";

describe("ansiToHtml", () => {
  test("named colours, bright colours and styles become classes", () => {
    expect(ansiToHtml("\x1b[31mred\x1b[0m plain \x1b[1;92mbold green\x1b[22m still green\x1b[39m")).toBe(
      '<span class="ansi-red-fg">red</span> plain <span class="ansi-bright-green-fg ansi-bold">bold green</span>' +
        '<span class="ansi-bright-green-fg"> still green</span>',
    );
  });

  test("256-colour and RGB colours become inline styles", () => {
    expect(ansiToHtml("\x1b[38;5;196mx\x1b[0m")).toBe('<span style="color:rgb(255,0,0)">x</span>');
    expect(ansiToHtml("\x1b[48;2;1;2;3my")).toBe('<span style="background-color:rgb(1,2,3)">y</span>');
    expect(ansiToHtml("\x1b[38;5;244mg")).toBe('<span style="color:rgb(128,128,128)">g</span>');
  });

  test("text is escaped inside and outside spans", () => {
    expect(ansiToHtml("<b>&\x1b[31m<script>alert(1)</script>")).toBe(
      '&lt;b&gt;&amp;<span class="ansi-red-fg">&lt;script&gt;alert(1)&lt;/script&gt;</span>',
    );
  });

  test("gcc's coloured diagnostics (SGR mixed with erase-line) keep bold and colour", () => {
    expect(ansiToHtml("\x1b[01m\x1b[Kt.c:1:1:\x1b[m\x1b[K \x1b[01;31m\x1b[Kerror: \x1b[m\x1b[Kfoo")).toBe(
      '<span class="ansi-bold">t.c:1:1:</span> <span class="ansi-red-fg ansi-bold">error: </span>foo',
    );
  });

  test("cursor movement, OSC links and titles are dropped", () => {
    expect(ansiToHtml("a\x1b[2Kb\x1b]8;;https://x\x07link\x1b]8;;\x07\x1b[?25l")).toBe("ablink");
  });

  test("carriage returns overwrite the line, as in a terminal", () => {
    expect(stripAnsi("10%\r50%\r100%\ndone\r\n")).toBe("100%\ndone\n");
    expect(stripAnsi("abc\b\bX")).toBe("aX");
  });

  test("inverse video swaps colours", () => {
    expect(ansiToHtml("\x1b[7mx")).toBe('<span class="ansi-inverse-fg ansi-inverse-bg">x</span>');
    expect(ansiToHtml("\x1b[31;7mx")).toBe('<span class="ansi-inverse-fg ansi-red-bg">x</span>');
  });

  test("no input produces markup other than kbook's spans (property)", () => {
    const pieces = fc.constantFrom("\x1b[", "m", ";", "38", "5", "2", "<", ">", "&", '"', "script", "\x1b]", "\x07", "\r", "\n", "\b", "x");
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 40 }), (parts) => {
        const html = ansiToHtml(parts.join(""));
        const withoutSpans = html.replace(/<span(?: class="[a-z -]+")?(?: style="[a-z-]+:rgb\(\d+,\d+,\d+\)(?:;[a-z-]+:rgb\(\d+,\d+,\d+\))?")?>|<\/span>/g, "");
        expect(withoutSpans).not.toMatch(/[<>]/);
        expect(withoutSpans).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
      }),
    );
  });
});

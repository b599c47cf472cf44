import fc from "fast-check";
import { parseHTML } from "linkedom";
import { describe, expect, test } from "vitest";
import { sanitizeHtml, sanitizeSvg } from "../../lib/export/sanitize/index.js";
import { scopeStyleSheet, sanitizeCss } from "../../lib/export/sanitize/policy.js";

const options = { idPrefix: "o1-", containerSelector: "#o1" };
const scope = { prefix: "o1-" };

describe("SVG outputs", () => {
  const svg = (body: string, attributes = "") => `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"${attributes}>${body}</svg>`;

  test("drawing is kept; scripts, handlers and animations are removed", () => {
    const { html, removed } = sanitizeSvg(
      svg(`<script><![CDATA[alert(1)]]></script><g onclick="zoom(this)"><rect x="1" width="2"/><set attributeName="href" to="javascript:alert(1)"/></g>`, ' onload="init(evt)"'),
      options,
    );
    expect(html).toBe('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><g><rect x="1" width="2"/></g></svg>');
    expect(Object.fromEntries(removed)).toEqual({ script: 1, set: 1 });
  });

  test("a frame named <script> stays text", () => {
    const { html } = sanitizeSvg(svg("<g><title>&lt;script&gt;alert(1)&lt;/script&gt; (5 samples)</title><text>&lt;script&gt;</text></g>"), options);
    expect(html).toContain("<title>&lt;script&gt;alert(1)&lt;/script&gt; (5 samples)</title><text>&lt;script&gt;</text>");
  });

  test("ids and in-SVG references get the output's prefix; external references go", () => {
    const { html } = sanitizeSvg(
      svg(`<linearGradient id="bg"/><rect fill="url(#bg)" cursor="url(https://evil/c.cur), auto" filter="url('#bg')"/><use href="#bg"/><use href="https://evil/x.svg#a"/><image href="https://evil/i.png"/><a href="javascript:alert(1)"><text>t</text></a>`),
      options,
    );
    expect(html).toContain('<linearGradient id="o1-bg"/>');
    expect(html).toContain('<rect fill="url(#o1-bg)" cursor="none, auto" filter="url(#o1-bg)"/>');
    expect(html).toContain('<use href="#o1-bg"/><use/><image/><a><text>t</text></a>');
  });

  test("<style> is confined to the output and its ids", () => {
    const { html } = sanitizeSvg(svg("<style>text { fill: red } #frames > g:hover { stroke: #000 } @import url(http://evil/x.css);</style>"), options);
    expect(html).toContain("<style>#o1{text { fill: red } #o1-frames &gt; g:hover { stroke: #000 } }</style>");
  });

  test("foreignObject content follows the HTML rules; CDATA there is text", () => {
    const { html } = sanitizeSvg(
      svg(`<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><![CDATA[ x > <img src=x onerror=alert(1)> ]]><iframe src="x"/><input type="search"/></div></foreignObject>`),
      options,
    );
    expect(html).toContain("<foreignObject><div> x &gt; &lt;img src=x onerror=alert(1)&gt; <input type=\"search\"></div></foreignObject>");
  });

  test("a script kept by the trust policy stays, escaped for foreign content, with the nonce", () => {
    const source = "if (a < b && c) run();";
    const { html } = sanitizeSvg(svg(`<script type="text/ecmascript" href="x.js"><![CDATA[${source}]]></script>`), {
      ...options,
      nonce: "n0",
      keepScript: (s) => s === source,
    });
    expect(html).toContain('<script type="text/ecmascript" nonce="n0">if (a &lt; b &amp;&amp; c) run();</script>');
  });

  test("SVG that is not XML is refused", () => {
    expect(() => sanitizeSvg("<svg><rect></svg>", options)).toThrow(/not well-formed XML/);
    expect(() => sanitizeSvg("<svg><g a=1/></svg>", options)).toThrow(/not well-formed XML/);
  });
});

describe("HTML outputs", () => {
  test("kbook tables pass unchanged", () => {
    const table = '<table class="kbook-table"><caption>kstack</caption><thead><tr><th style="text-align:right">n</th></tr></thead><tbody><tr><td colspan="2">&lt;x&gt;</td></tr></tbody></table>';
    expect(sanitizeHtml(table, options).html).toBe(table);
  });

  test("scripts, handlers, frames, forms and clobbering names go; JSON data blocks stay", () => {
    const { html } = sanitizeHtml(
      `<div onclick="x()" name="getElementById">a</div><script>alert(1)</script><iframe src="https://x"></iframe><form action="https://x"><input name="q" formaction="x"></form><img src="https://evil/p.png" onerror="alert(1)"><script type="application/json">{"a":1}</script><custom-el>kept text</custom-el>`,
      options,
    );
    expect(html).toBe('<div>a</div><img><script type="application/json">{"a":1}</script>kept text');
  });

  test("links: safe schemes only, never opener", () => {
    const { html } = sanitizeHtml('<a href="javascript:alert(1)">j</a><a href="https://kernel.org" target="_blank">k</a><a href="#x" target="_top">h</a>', options);
    expect(html).toBe(
      '<a rel="noopener noreferrer">j</a><a href="https://kernel.org" target="_blank" rel="noopener noreferrer">k</a><a href="#x" rel="noopener noreferrer">h</a>',
    );
  });

  test("<style> is kept scoped; one that could escape its element is dropped", () => {
    expect(sanitizeHtml("<style>td { color: red }</style><p>x</p>", options).html).toBe("<style>#o1{td { color: red }}</style><p>x</p>");
    expect(sanitizeHtml("<style>td { background: u\\72l(http://evil) }</style>", options).html).toBe("");
    expect(sanitizeHtml("<style>} body { display: none } p {</style>", options).html).toBe("");
  });

  test("void elements, implied end tags and stray end tags keep the structure", () => {
    expect(sanitizeHtml("<table><tr><td>a<br>b<img alt=x>c</td><td>d</tr></table></div>after", options).html).toBe(
      '<table><tr><td>a<br>b<img alt="x">c</td><td>d</td></tr></table>after',
    );
    expect(sanitizeHtml("<ul><li>one<li>two</ul><p>x<p>y", options).html).toBe("<ul><li>one</li><li>two</li></ul><p>x</p><p>y</p>");
  });

  test("--trust keeps everything", () => {
    const html = '<div onclick="go()">x</div><script>window.x = 1 < 2;</script>';
    expect(sanitizeHtml(html, { ...options, trusted: true }).html).toBe(html);
  });
});

describe("CSS", () => {
  test("remote resources are neutralised, escapes refused", () => {
    expect(sanitizeCss("background: url(https://evil/x.png) red; color: blue", scope, "declarations")).toBe("background: none red; color: blue");
    expect(sanitizeCss("background: image-set('https://evil/x.png' 1x)", scope, "declarations")).toBeUndefined();
    expect(sanitizeCss("background: \\75rl(x)", scope, "declarations")).toBeUndefined();
    expect(sanitizeCss("background: url(https://evil", scope, "declarations")).toBeUndefined();
    expect(sanitizeCss("@font-face { font-family: x; src: url(https://evil/f.woff) } p { color: red }", scope, "sheet")).toBe(" p { color: red }");
  });

  test("keyframes stay top-level, the rest nests under the container", () => {
    expect(scopeStyleSheet("@keyframes spin { from { opacity: 0 } } .a, #b { animation: spin 1s } @media print { #c { x: y } }", "#o1", scope)).toBe(
      "@keyframes spin { from { opacity: 0 } }#o1{ .a, #o1-b { animation: spin 1s } @media print { #o1-c { x: y } }}",
    );
  });
});

describe("property: nothing executable survives", () => {
  const fragments = [
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', '<a href="javascript:alert(1)">x</a>', '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<svg onload="alert(1)"><rect/></svg>', '<svg><script>alert(1)</script></svg>', '<svg><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>',
    '<svg><set attributeName="onmouseover" to="alert(1)"/></svg>', '<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>', '<object data="javascript:alert(1)"></object>', "<embed src=x>", '<form><button formaction="javascript:alert(1)">b</button></form>',
    '<div style="background:url(javascript:alert(1))">d</div>', "<style>@import 'http://evil/x.css';</style>", "<math><maction xlink:href=\"javascript:alert(1)\">m</maction></math>",
    "<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>", "<template><script>alert(1)</script></template>", "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    '<base href="javascript:/">', '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', "<table><tr><td>cell</td></tr></table>", "<b>", "</div>", "<p>text", "&lt;", "<!--", "-->", "<![CDATA[", "]]>",
    '"', "'", ">", "<", "<svg>", "</svg>", "<style>", "</style>", "<script>", "</script>", "<xmp>", "<textarea>", "</textarea>",
  ];

  function assertInert(html: string): void {
    const { document } = parseHTML(`<!DOCTYPE html><html><body>${html}</body></html>`);
    for (const element of document.querySelectorAll("*")) {
      const name = element.localName.toLowerCase();
      if (name === "script") expect(element.getAttribute("type")).toBe("application/json");
      expect(["iframe", "object", "embed", "form", "button", "base", "meta", "math", "set", "animate", "xmp", "template"]).not.toContain(name);
      for (const attribute of element.attributes) {
        expect(attribute.name.toLowerCase()).not.toMatch(/^on|^formaction$|^srcdoc$/);
        expect(attribute.value.replace(/[\s\u0000-\u001f]/g, "")).not.toMatch(/javascript:|url\((?!#|data:image)/i);
      }
    }
  }

  test("HTML", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 6 })), { maxLength: 12 }), (parts) => {
        assertInert(sanitizeHtml(parts.join(""), options).html);
      }),
      { numRuns: 400 },
    );
  });

  test("SVG (well-formed compositions)", () => {
    const svgParts = [
      '<g onclick="alert(1)"><rect/></g>', "<script>alert(1)</script>", '<a href="javascript:alert(1)"><text>x</text></a>', '<set attributeName="href" to="javascript:alert(1)"/>',
      '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></div></foreignObject>', "<text>&lt;script&gt;alert(1)&lt;/script&gt;</text>",
      "<![CDATA[<img src=x onerror=alert(1)>]]>", '<rect style="fill:url(javascript:alert(1))"/>', '<image href="https://evil/x.png"/>', "<style>rect{fill:red}</style>",
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...svgParts), { maxLength: 10 }), (parts) => {
        assertInert(sanitizeSvg(`<svg xmlns="http://www.w3.org/2000/svg">${parts.join("")}</svg>`, options).html);
      }),
      { numRuns: 300 },
    );
  });
});

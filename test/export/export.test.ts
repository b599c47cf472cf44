import { beforeAll, describe, expect, test } from "vitest";
import { cellVisibility, exportNotebook } from "../../lib/export/index.js";
import { isShippedScript, kbookOutputScripts } from "../../lib/export/trust.js";
import { renderFlameGraph } from "../../lib/flamegraph/index.js";
import { articleNotebook, code, display, HOSTILE, markdown, notebook } from "./notebooks.js";

/** The page without the contents of its scripts (the inlined vega code mentions URLs). */
function withoutScripts(html: string): string {
  return html.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/g, "$1</script>");
}

/** The nonce the page's Content-Security-Policy asks scripts for. */
function cspNonce(html: string): string | undefined {
  return /script-src &#39;nonce-([^&]+)&#39;/.exec(html)?.[1];
}

/** Script elements that execute (not JSON data blocks), with their attributes. */
function executableScripts(html: string): string[] {
  return [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!).filter((attributes) => !attributes.includes('type="application/json"'));
}

describe("exportNotebook on the article notebook", () => {
  let html = "";
  let notes: string[] = [];
  beforeAll(async () => {
    ({ html, notes } = await exportNotebook(await articleNotebook()));
  });

  test("title, header and contents", () => {
    expect(html).toContain("<title>The article, reproduced</title>");
    expect(html).toContain('<header class="notebook-header"><h1>The article, reproduced</h1><p class="meta">TypeScript (kbook)</p></header>');
    expect(html).toMatch(/<nav class="toc"[^>]*>.*<a href="#profile-with-perf">Profile with perf<\/a>.*<a href="#kstack-counts">kstack counts<\/a>/s);
  });

  test("markdown annotations render; their raw HTML stays text", () => {
    expect(html).toContain("Annotations with <strong>bold</strong>, <code>code</code>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;");
  });

  test("code is highlighted, magics included", () => {
    expect(html).toContain('<span class="hljs-meta">%%bpftrace</span>');
    expect(html).toMatch(/<span class="hljs-keyword">throw<\/span> <span class="hljs-keyword">new<\/span>/);
  });

  test("flame graphs are inline with kbook's script, and the <script> frame is text", () => {
    expect(html.match(/<svg [^>]*class="kbook-flamegraph"/g)).toHaveLength(2);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; (7 samples");
    expect(html).not.toContain(HOSTILE);
    expect(notes).toEqual([]);
  });

  test("every executable script carries the page's nonce, which the CSP requires", () => {
    const nonce = cspNonce(html);
    expect(nonce).toBeTruthy();
    const scripts = executableScripts(html);
    expect(scripts.length).toBe(4); // two flame graphs, the vega runtime, the page script
    for (const attributes of scripts) expect(attributes).toContain(`nonce="${nonce}"`);
  });

  test("the Vega-Lite chart: spec, static SVG fallback and the inlined runtime", () => {
    expect(html).toMatch(/<div class="kb-vega" data-mode="vega-lite"><svg [^>]*class="marks"[\s\S]*?<\/svg><\/div><script type="application\/json" class="kb-vega-spec">/);
    expect(html).toContain('"frame":"\\u003cb>bold?\\u003c/b>"');
    expect(html).toContain("vegaEmbed");
    expect(html).not.toMatch(/sourceMappingURL/);
  });

  test("tables, errors and images", () => {
    expect(html).toContain('<table class="kbook-table"><caption>kstack counts</caption>');
    expect(html).toContain("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>");
    expect(html).toContain('<span class="ansi-red-fg">Error</span>: boom &lt;b&gt;');
    expect(html).toMatch(/<img src="data:image\/png;base64,iVBOR[^"]+" alt="">/);
    expect(html).toContain('<span class="ansi-green-fg">ok</span> done');
  });

  test("cell tags and hidden-source metadata", () => {
    expect(html).not.toContain("secret setup code");
    expect(html).toContain("visible output of hidden code");
    expect(html).toMatch(/<details class="folded input"><summary>Show code<\/summary><div class="input">.*folded code/s);
    expect(html).not.toContain("REMOVED-CELL-OUTPUT");
    expect(html).not.toContain("removed cell");
    expect(html).not.toContain("REMOVED-OUTPUT");
    expect(html).toContain("noisy");
  });

  test("nothing in the page points at the network", () => {
    const markup = withoutScripts(html);
    // Links (<a href>) are fine: following one is the reader's choice. Loading is not.
    expect(markup).not.toMatch(/\bsrc="(?:https?:)?\/\/|<link\b|<iframe\b/);
    expect(markup).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//);
    expect(html).toContain("default-src &#39;none&#39;");
  });
});

describe("trust", () => {
  const foreign = `<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/><script>window.__pwned = 1</script></svg>`;

  test("an untrusted script in an output is removed and reported; --trust keeps it", async () => {
    const nb = notebook([code("x", [display({ "image/svg+xml": foreign, "text/plain": "svg" })])]);
    const untrusted = await exportNotebook(nb);
    expect(untrusted.html).not.toContain("__pwned");
    expect(untrusted.notes).toEqual(["o1: 1 script(s) removed (untrusted output; --trust keeps them)."]);
    const trusted = await exportNotebook(nb, { trust: true });
    expect(trusted.html).toMatch(/<script nonce="[^"]+">window.__pwned = 1<\/script>/);
    expect(trusted.html).toContain("script-src &#39;unsafe-inline&#39;");
  });

  test("kbook's flame graph script is recognised with its JSON configuration, and only so", () => {
    const svg = renderFlameGraph("a;b 1\n", { id: "fg1" });
    const script = /<script[^>]*><!\[CDATA\[([\s\S]*?)\]\]><\/script>/.exec(svg)![1]!;
    const shipped = [...kbookOutputScripts()];
    expect(shipped).toHaveLength(1);
    expect(isShippedScript(script, shipped)).toBe(true);
    expect(isShippedScript(`${shipped[0]}({"id": "x"});`, shipped)).toBe(true);
    expect(isShippedScript(`${shipped[0]}({"id": alert(1)});`, shipped)).toBe(false);
    expect(isShippedScript(`${shipped[0]}({}); alert(1);`, shipped)).toBe(false);
    expect(isShippedScript(`${shipped[0]}(alert(1));`, shipped)).toBe(false);
    expect(isShippedScript(`alert(1);${shipped[0]}`, shipped)).toBe(false);
  });
});

describe("other outputs and cells", () => {
  test("a Vega-Lite spec without an SVG gets one rendered at export; one that loads URLs does not", async () => {
    const spec = { $schema: "https://vega.github.io/schema/vega-lite/v5.json", data: { values: [{ a: "x", b: 1 }] }, mark: "point", encoding: { x: { field: "a", type: "nominal" } } };
    const remote = { ...spec, data: { url: "/etc/passwd", format: { type: "csv" } } };
    const { html } = await exportNotebook(
      notebook([
        code("chart", [display({ "application/vnd.vegalite.v6+json": spec, "text/plain": "chart one" })]),
        code("remote", [display({ "application/vnd.vegalite.v4+json": remote, "text/plain": "chart two" })]),
      ]),
    );
    expect(html).toMatch(/<div class="output vega" id="o1"[^>]*><div class="kb-vega" data-mode="vega-lite"><svg [^>]*class="marks"/);
    expect(html).toContain('<div class="kb-vega" data-mode="vega-lite"><pre>chart two</pre></div>');
  });

  test("raw cells: HTML ones sanitised, untyped ones left out; markdown outputs stay out of the contents", async () => {
    const { html } = await exportNotebook(
      notebook([
        markdown("# One"),
        { cell_type: "raw", id: "r1", source: "<b onclick=x()>raw html</b><script>alert(1)</script>", metadata: { raw_mimetype: "text/html" } },
        { cell_type: "raw", id: "r2", source: "RAW-LATEX", metadata: {} },
        code("md", [display({ "text/markdown": "## Output heading\n\n<i>x</i>", "text/plain": "md" })]),
        markdown("## Two"),
      ]),
    );
    expect(html).toContain('<div class="raw html"><b>raw html</b></div>');
    expect(html).not.toContain("RAW-LATEX");
    expect(html).toContain('<h2 id="output-heading">Output heading');
    expect(html).toContain("&lt;i&gt;x&lt;/i&gt;");
    expect(html).not.toContain('href="#output-heading">Output heading</a></li>');
    expect(html).toMatch(/<a href="#two">Two<\/a>/);
  });

  test("stream chunks merge; carriage returns and JSON outputs render as text", async () => {
    const { html } = await exportNotebook(
      notebook([
        code("x", [
          { output_type: "stream", name: "stdout", text: "progress 10%\r" },
          { output_type: "stream", name: "stdout", text: "progress 100%\n" },
          { output_type: "stream", name: "stderr", text: "warn <x>\n" },
          display({ "application/json": { a: "<b>" } }),
          display({ "application/x-unknown": "?" }),
        ]),
      ]),
    );
    expect(html).toContain('<div class="output stream stdout" id="o1"><pre>progress 100%\n</pre></div>');
    expect(html).toContain('<div class="output stream stderr" id="o2"><pre>warn &lt;x&gt;\n</pre></div>');
    expect(html).toContain("&quot;a&quot;: &quot;&lt;b&gt;&quot;");
    expect(html).toContain("(output with MIME types application/x-unknown: nothing here can show it)");
  });
});

describe("cell visibility", () => {
  test("tags in either spelling, JupyterLab's hidden state, nbformat's collapsed", () => {
    const v = (metadata: Record<string, unknown>) => cellVisibility(code("x", [], metadata));
    expect(v({})).toEqual({ cell: "show", input: "show", output: "show" });
    expect(v({ tags: ["hide_input", "remove-output"] })).toEqual({ cell: "show", input: "hide", output: "remove" });
    expect(v({ tags: ["remove_cell"] }).cell).toBe("remove");
    expect(v({ jupyter: { source_hidden: true, outputs_hidden: true } })).toEqual({ cell: "show", input: "hide", output: "hide" });
    expect(v({ collapsed: true }).output).toBe("hide");
    expect(v({ tags: ["remove-input"], jupyter: { source_hidden: true } }).input).toBe("remove");
  });
});

describe("pages without charts", () => {
  test("no vega runtime; the first heading is the title; empty cells vanish", async () => {
    const { html, cells } = await exportNotebook(notebook([markdown("# Booting your own kernel\n\ntext"), code("", []), markdown("  ")]));
    expect(html).not.toContain("define.amd");
    expect(html.length).toBeLessThan(40_000);
    expect(html).toContain("<title>Booting your own kernel</title>");
    expect(html).not.toContain('<header class="notebook-header"');
    expect(cells).toBe(1);
  });
});

/**
 * kbook's output sanitizer against the XSS corpus (testdata/xss-corpus.json: ~200 vectors from
 * the OWASP, PortSwigger and html5sec lists and DOMPurify's published bypasses, for HTML and SVG
 * outputs). Judged twice: statically, by a spec HTML parser (jsdom), and dynamically, by loading
 * every sanitised output in one headless Chromium page and trying to trigger it. A control run
 * loads the unsanitised payloads the same way, to show the harness does see a payload that runs.
 */
import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { sanitizeHtml, sanitizeSvg, type Sanitized } from "../../lib/export/sanitize/index.js";
import { trustPolicy } from "../../lib/export/trust.js";
import { articleNotebook, flameGraph } from "./notebooks.js";
import { CHROMIUM, EXECUTION_KINDS, findings, loadCorpus, runInChromium, type Vector } from "./xss.js";

const corpus = loadCorpus();
const policy = trustPolicy();

/** The vector as the export would place it in the page (outputs.ts: SVG that is not XML becomes an <img>). */
function sanitize(vector: Vector): { html: string; refused: boolean } {
  const options = { idPrefix: `o${vector.n}-`, containerSelector: `#o${vector.n}`, keepScript: policy.keepScript };
  if (vector.context === "html") return { html: sanitizeHtml(vector.payload, options).html, refused: false };
  let result: Sanitized;
  try {
    result = sanitizeSvg(vector.payload, options);
  } catch {
    return { html: `<img alt="SVG output" src="data:image/svg+xml;base64,${Buffer.from(vector.payload).toString("base64")}">`, refused: true };
  }
  return { html: result.html, refused: false };
}

const sanitized = new Map(corpus.map((v) => [v.n, sanitize(v)]));

describe("the corpus", () => {
  test("is well formed: unique ids and numbers, every payload can report itself", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    expect(new Set(corpus.map((v) => v.id)).size).toBe(corpus.length);
    expect(new Set(corpus.map((v) => v.n)).size).toBe(corpus.length);
    for (const v of corpus) expect(["html", "svg"]).toContain(v.context);
    // Vectors that only need to be kept out (vbscript:, remote loads, scope escapes) do not call __xss.
    expect(corpus.filter((v) => v.payload.includes(`(${v.n})`) || v.payload.includes(`:${v.n}'`) || /base64,/.test(v.payload)).length).toBeGreaterThan(170);
  });

  test("SVG vectors are well-formed XML, so they reach the SVG sanitizer rather than being refused", () => {
    expect(corpus.filter((v) => v.context === "svg" && sanitized.get(v.n)!.refused).map((v) => v.id)).toEqual([]);
  });
});

describe("static check (jsdom parses the sanitised output inside a page)", () => {
  test.each(corpus.map((v) => [v.id, v] as const))("%s", (_id, vector) => {
    const { html } = sanitized.get(vector.n)!;
    expect(findings(html, policy.keepScript)).toEqual([]);
  });

  test("the checker itself flags the unsanitised payloads", () => {
    const flagged = corpus.filter((v) => findings(v.payload).some((f) => EXECUTION_KINDS.has(f.kind) || f.kind === "remote"));
    expect(flagged.length).toBeGreaterThan(corpus.length * 0.8);
  });
});

describe.skipIf(!existsSync(CHROMIUM))("in headless Chromium", () => {
  test("no sanitised payload runs, loads anything or leaves its element", async () => {
    const run = await runInChromium(corpus.map((v) => ({ n: v.n, html: sanitized.get(v.n)!.html })));
    expect([...run.ran].map((n) => corpus.find((v) => v.n === n)!.id)).toEqual([]);
    expect(run.requests).toEqual([]);
    expect(run.contained).toBe(true);
  }, 120_000);

  test("control: unsanitised, many of the same payloads do run (so the check above can see them)", async () => {
    const run = await runInChromium(corpus.map((v) => ({ n: v.n, html: v.payload })), "framed");
    expect(run.ran.size).toBeGreaterThan(60);
  }, 180_000);
});

describe("kbook's real outputs pass the same check with their own script kept", () => {
  test("flame graphs keep kbook's script and nothing else runs", () => {
    for (const fixture of ["dd.folded", "tick.folded"]) {
      const svg = flameGraph(fixture, fixture);
      const { html, removed } = sanitizeSvg(svg, { idPrefix: "o1-", containerSelector: "#o1", keepScript: policy.keepScript });
      expect(removed.get("script")).toBeUndefined();
      expect(html).toMatch(/<script[^>]*>/);
      expect(findings(html, policy.keepScript)).toEqual([]);
    }
  });

  test("the article notebook's HTML and SVG outputs", async () => {
    const notebook = await articleNotebook();
    let checked = 0;
    for (const cell of notebook.cells) {
      for (const output of cell.cell_type === "code" ? cell.outputs : []) {
        if (output.output_type !== "display_data" && output.output_type !== "execute_result") continue;
        const data = output.data as Record<string, string | string[]>;
        const text = (mime: string) => (Array.isArray(data[mime]) ? (data[mime] as string[]).join("") : (data[mime] as string));
        const options = { idPrefix: "o1-", containerSelector: "#o1", keepScript: policy.keepScript };
        if (data["text/html"]) expect(findings(sanitizeHtml(text("text/html"), options).html, policy.keepScript)).toEqual([]), checked++;
        if (data["image/svg+xml"]) expect(findings(sanitizeSvg(text("image/svg+xml"), options).html, policy.keepScript)).toEqual([]), checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });
});

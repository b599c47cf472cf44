/**
 * Making untrusted outputs safe to place in the exported page: HTML and SVG are re-serialised
 * through one policy (see policy.ts), with ids and styles confined to the output they came from.
 *
 * Why hand-written rather than DOMPurify, the reference sanitizer (it needs a DOM: in Node,
 * jsdom). bench/sanitize.ts measured both, DOMPurify 3.5.0 on jsdom 29.1.1, as it comes and with
 * kbook's rules added as hooks (bench/sanitize-dompurify.ts, the adoption candidate), on this
 * 2-core machine under load:
 *
 *                                          kbook          DOMPurify      DOMPurify + kbook hooks
 *   XSS corpus: vectors neutralised (1)    198/198        194/198 (2)    198/198
 *     payloads that run in Chromium (3)    0              0              0
 *     remote loads kept (CSS url, @import) 0              5              0
 *   flame graph keeps kbook's script, zooms yes           no (4)         yes
 *   ids and <style> confined to the output yes            no             yes
 *   drawing and text of kbook's outputs    all kept       all kept       all kept
 *     (flame graphs, Vega-Lite SVG, bpftrace displays, tables)
 *   50k-frame flame graph (9 MB)           0.4–0.8 s      11–14 s        27–36 s, 2.6 GB RSS
 *   small outputs (6–20 KB), ms per MB     16–280         300–12000      580–4300
 *   loading it into a process              50–80 ms       1.0–1.8 s (jsdom)
 *   dependencies                           htmlparser2    40 packages, 25.5 MB (jsdom)
 *
 *   (1) test/export/testdata/xss-corpus.json, 198 vectors from the OWASP and PortSwigger
 *       cheat sheets, html5sec and DOMPurify's published bypasses, each judged by a spec HTML
 *       parser (jsdom) and in headless Chromium (test/export/xss-corpus.test.ts).
 *   (2) The four misses are old IE/Gecko CSS (expression(), url(javascript:), behavior) left in
 *       style: none runs in a current browser.
 *   (3) 104 of the 198 payloads run when placed in the page unsanitised.
 *   (4) DOMPurify removes every script; keeping kbook's own needs a hook.
 *
 * With kbook's rules added DOMPurify is exactly as safe on the corpus, and keeps kbook's outputs as
 * well, but those rules (id prefixes, url() rewriting, CSS checks and nesting, the kbook-script
 * exception, rel=noopener, the nonce) stay kbook's code, as hooks. What DOMPurify would replace
 * is the tokenizers and the writer (html.ts, xml.ts, writer.ts), which is where the speed comes
 * from: the export budget is 2 s for a 50k-frame graph (bench/export.ts), and DOMPurify alone
 * would take 15–70 times that, plus a second parse to keep "SVG must be XML". So the hand-written
 * one stays; the corpus test is what holds it to DOMPurify's standard. Re-run the bench (and add
 * the vector) when a new bypass is published.
 */
import { tokenizeHtml } from "./html.js";
import { SanitizingWriter, type SanitizeOptions } from "./writer.js";
import { tokenizeXml } from "./xml.js";

export type { SanitizeOptions } from "./writer.js";
export { decodeXmlText } from "./xml.js";

export interface Sanitized {
  html: string;
  /** Element names that were removed, with counts (e.g. script → 1). */
  removed: Map<string, number>;
}

/** Sanitises an SVG document (XML) for inline use in the page. Throws UsageError if it is not XML. */
export function sanitizeSvg(svg: string, options: SanitizeOptions): Sanitized {
  const writer = new SanitizingWriter(options, "svg");
  tokenizeXml(svg, writer);
  return { html: writer.finish(), removed: writer.removed };
}

/** Sanitises an HTML fragment. */
export function sanitizeHtml(html: string, options: SanitizeOptions): Sanitized {
  const writer = new SanitizingWriter(options, "html");
  tokenizeHtml(html, writer);
  return { html: writer.finish(), removed: writer.removed };
}

/**
 * Making untrusted outputs safe to place in the exported page: HTML and SVG are re-serialised
 * through one policy (see policy.ts), with ids and styles confined to the output they came from.
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

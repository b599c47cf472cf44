/**
 * What an untrusted output may contain once it is part of the exported page. HTML elements and
 * attributes are allow-listed; SVG has too many presentation attributes to list, so there the
 * rule is the reverse: everything that can run code, fetch something, or reach outside the output
 * is removed (event handlers, scripts, animations that can rewrite links, external URLs).
 */
import { safeLinkUrl } from "../markdown.js";

export type Namespace = "html" | "svg";

/** HTML elements kept as they are. */
const HTML_ELEMENTS = new Set(
  (
    "a abbr address article aside b bdi bdo blockquote br caption center cite code col colgroup dd del details dfn div dl dt " +
    "em figcaption figure font footer h1 h2 h3 h4 h5 h6 header hr i img input ins kbd label li main mark nav ol p pre q rp rt " +
    "ruby s samp section small span strong sub summary sup table tbody td tfoot th thead time tr tt u ul var wbr"
  ).split(" "),
);

/** HTML elements removed with everything inside them (code, forms, frames, raw text, metadata). */
const HTML_DROPPED = new Set(
  (
    "script noscript template iframe frame frameset object embed applet param base link meta title head textarea select " +
    "option optgroup button form audio video source track canvas math portal xmp plaintext listing noembed noframes dialog slot"
  ).split(" "),
);

export const HTML_VOID = new Set("area base br col embed hr img input link meta source track wbr".split(" "));

/** Attributes any kept HTML element may carry (plus aria-* and data-*). */
const HTML_ATTRIBUTES = new Set(
  (
    "class id title lang dir style role align valign width height colspan rowspan headers scope span border cellpadding " +
    "cellspacing summary start reversed type value open datetime alt nowrap abbr color size face bgcolor href src target " +
    "placeholder checked disabled readonly"
  ).split(" "),
);

/** SVG elements kept; anything else in SVG (script, animate, set, unknown names) is removed. */
const SVG_ELEMENTS = new Set(
  (
    "svg g defs symbol use title desc metadata switch view rect circle ellipse line polyline polygon path text tspan textpath " +
    "a image lineargradient radialgradient stop pattern clippath mask marker filter foreignobject style " +
    "feblend fecolormatrix fecomponenttransfer fecomposite feconvolvematrix fediffuselighting fedisplacementmap " +
    "fedistantlight fedropshadow feflood fefunca fefuncb fefuncg fefuncr fegaussianblur feimage femerge femergenode " +
    "femorphology feoffset fepointlight fespecularlighting fespotlight fetile feturbulence"
  ).split(" "),
);

/** SVG attributes removed whatever their value. */
const SVG_DENIED_ATTRIBUTES = new Set(
  "name attributename begin end dur from to by xml:base srcdoc src formaction action data is nonce".split(" "),
);

const ATTRIBUTE_NAME = /^[a-zA-Z_:][-a-zA-Z0-9_:.]*$/;
const IMAGE_DATA_URL = /^data:image\/(?:png|jpeg|gif|webp|svg\+xml)(?:;[a-z0-9=.+-]*)*,[a-z0-9+/=%\s._~:;,!*'()-]*$/i;

export type ElementAction = "keep" | "unwrap" | "drop";

export function elementAction(name: string, ns: Namespace): ElementAction {
  if (ns === "svg") return SVG_ELEMENTS.has(name) ? "keep" : "drop";
  if (HTML_ELEMENTS.has(name) || name === "svg" || name === "style") return "keep";
  // Unknown HTML elements (html, body, custom elements) keep their text but not themselves.
  return HTML_DROPPED.has(name) ? "drop" : "unwrap";
}

/** Rewrites ids and in-output references so two outputs (or an output and the page) never share an id. */
export interface IdScope {
  prefix: string;
}

/** What an attribute name means for the policy, decided once per name (flame graphs repeat a few names 300k times). */
type AttributeKind = "drop" | "id" | "style" | "href" | "src" | "target" | "type" | "value";
const attributeKinds: Record<Namespace, Map<string, AttributeKind>> = { html: new Map(), svg: new Map() };

function attributeKind(ns: Namespace, name: string): AttributeKind {
  let kind = attributeKinds[ns].get(name);
  if (kind === undefined) {
    const lower = name.toLowerCase();
    if (!ATTRIBUTE_NAME.test(name) || lower.startsWith("on")) kind = "drop";
    else if (lower === "id" || lower === "style") kind = lower;
    else if (ns === "html") {
      if (!HTML_ATTRIBUTES.has(lower) && !/^(aria|data)-[a-z0-9_.-]+$/.test(lower)) kind = "drop";
      else kind = lower === "href" || lower === "src" || lower === "target" || lower === "type" ? lower : "value";
    } else if (SVG_DENIED_ATTRIBUTES.has(lower)) kind = "drop";
    else kind = lower === "href" || lower === "xlink:href" ? "href" : "value";
    attributeKinds[ns].set(name, kind);
  }
  return kind;
}

/** Colours are most of a flame graph's parenthesised values; they cannot name a resource. */
const PLAIN_COLOR = /^rgba?\([\d.,\s%]*\)$/;

/**
 * The attribute to write for `name=value` on element `element`, or undefined to drop it.
 * `value` is the decoded value; the caller escapes what is returned.
 */
export function checkAttribute(element: string, ns: Namespace, name: string, value: string, scope: IdScope): string | undefined {
  switch (attributeKind(ns, name)) {
    case "drop":
      return undefined;
    case "id":
      return scope.prefix + value;
    case "style":
      return sanitizeCss(value, scope, "declarations");
    case "href":
      if (element === "a") return safeLinkUrl(value);
      if (ns === "html") return undefined;
      {
        const trimmed = value.trim();
        if (trimmed.startsWith("#")) return `#${scope.prefix}${trimmed.slice(1)}`;
        return (element === "image" || element === "feimage") && IMAGE_DATA_URL.test(trimmed) ? trimmed : undefined;
      }
    case "src":
      return element === "img" && IMAGE_DATA_URL.test(value.trim()) ? value.trim() : undefined;
    case "target":
      return value === "_blank" ? value : undefined;
    case "type":
      return element !== "input" || ["search", "text", "checkbox"].includes(value.toLowerCase()) ? value : undefined;
    default:
      if (ns === "html" || !value.includes("(") || PLAIN_COLOR.test(value)) return value;
      return rewriteUrls(value, scope);
  }
}

/**
 * Keeps `url(#id)` (rewritten into the output's id scope) and data: images; any other url() is
 * replaced by `none`, so the declaration still parses but loads nothing. Values that could load a
 * resource some other way (image-set(), a CSS escape spelling url, an unterminated url) are
 * refused whole: undefined tells the caller to drop them.
 */
function rewriteUrls(value: string, scope: IdScope): string | undefined {
  if (value.includes("\\") || /(?:image-set|cross-fade|expression)\s*\(|(?<![-\w])(?:image|src|element)\s*\(/i.test(value)) {
    return undefined;
  }
  const rewritten = value.replace(/url\(([^)]*)\)/gi, (_whole, inner: string) => {
    const target = inner.trim().replace(/^(["'])(.*)\1$/s, "$2").trim();
    if (/^#[-\w.:]+$/.test(target)) return `url(#${scope.prefix}${target.slice(1)})`;
    if (IMAGE_DATA_URL.test(target) && !/["'()\s]/.test(target)) return `url(${target})`;
    return "none";
  });
  const rest = rewritten.replace(/url\(#[-\w.:]+\)|url\(data:image\/[^"'()\s]*\)/gi, "");
  return /url\s*\(/i.test(rest) ? undefined : rewritten;
}

/**
 * CSS from an output, made safe: no escapes (they can spell `url` or `expression` past any
 * filter), no @import or @font-face, only in-output and data: URLs. Returns undefined when the
 * CSS cannot be kept. `kind` is "declarations" for a style attribute, "sheet" for a <style>.
 */
export function sanitizeCss(css: string, scope: IdScope, kind: "declarations" | "sheet"): string | undefined {
  if (css.includes("\\") || (kind === "sheet" && /<\/?style|<!--/i.test(css))) return undefined;
  let text = css.replace(/\/\*[\s\S]*?\*\//g, "");
  text = text.replace(/@(?:import|namespace|charset)[^;{}]*;?/gi, "");
  text = extractAtBlocks(text, /@font-face\b/i).rest;
  if (/-moz-binding|behavior\s*:|javascript:/i.test(text)) return undefined;
  return /url\s*\(|\(/i.test(text) ? rewriteUrls(text, scope) : text;
}

/** Splits `@rule … { … }` blocks (with nested braces) out of a style sheet. */
function extractAtBlocks(css: string, at: RegExp): { blocks: string[]; rest: string } {
  const blocks: string[] = [];
  let rest = css;
  for (let match = at.exec(rest); match; match = at.exec(rest)) {
    const open = rest.indexOf("{", match.index);
    let end = open;
    for (let depth = 0; open >= 0 && end < rest.length; end++) {
      if (rest[end] === "{") depth++;
      else if (rest[end] === "}" && --depth === 0) break;
    }
    if (open < 0 || end >= rest.length) {
      rest = rest.slice(0, match.index);
      break;
    }
    blocks.push(rest.slice(match.index, end + 1));
    rest = rest.slice(0, match.index) + rest.slice(end + 1);
  }
  return { blocks, rest };
}

/**
 * Confines a style sheet to one output: every rule is nested under the output's container
 * (CSS nesting, Chromium 120+, Firefox 117+, Safari 17.2+), and `#id` selectors follow the
 * output's id prefix. Without this a flame graph's `text { … }` or `.hide { … }` would restyle the
 * whole page and every other graph. @keyframes cannot be nested, so they stay at the top level.
 */
export function scopeStyleSheet(css: string, containerSelector: string, scope: IdScope): string | undefined {
  // A stray "}" would close the container's rule and let the rest apply to the whole page.
  if (!bracesBalance(css)) return undefined;
  const { blocks: keyframes, rest } = extractAtBlocks(css, /@(?:-webkit-)?keyframes\b/i);
  // A selector is the text before a "{" back to the previous "}", "{" or ";".
  const scoped = rest.replace(/(?<=^|[{};])([^{};]*)\{/g, (_whole, selector: string) => {
    if (selector.trimStart().startsWith("@") || !scope.prefix) return `${selector}{`;
    return `${selector.replace(/#(-?[_a-zA-Z][-_a-zA-Z0-9]*)/g, `#${scope.prefix}$1`)}{`;
  });
  return `${keyframes.join("\n")}${containerSelector}{${scoped}}`;
}

/** True when every "}" closes an earlier "{" and none stays open. */
function bracesBalance(css: string): boolean {
  let depth = 0;
  for (let i = 0; i < css.length; i++) {
    const c = css.charCodeAt(i);
    if (c === 123) depth++;
    else if (c === 125 && --depth < 0) return false;
  }
  return depth === 0;
}

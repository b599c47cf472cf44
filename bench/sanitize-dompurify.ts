/**
 * The adoption candidate measured by bench/sanitize.ts: kbook's sanitizer API (sanitizeHtml,
 * sanitizeSvg) implemented with DOMPurify on a jsdom window instead of kbook's own tokenizers
 * and writer. DOMPurify decides which elements and attributes exist; kbook's rules are added as
 * hooks — its attribute policy on top of DOMPurify's (ids and in-output references prefixed,
 * url() rewritten, CSS checked), <style> sheets checked and nested under the output's
 * container, kbook's own scripts (trust.ts) let through, rel=noopener on links, the CSP nonce on
 * kept scripts. SVG must still be XML, as kbook's contract says, so it is parsed a second time
 * as XML first. Trusted mode (--trust) is not implemented: it needs no sanitizer.
 *
 * Also `dompurifyDefault`: DOMPurify as it comes, for the corpus figures.
 */
import createDOMPurify, { type DOMPurify } from "dompurify";
import { JSDOM } from "jsdom";
import type { Sanitized, SanitizeOptions } from "../lib/export/sanitize/index.js";
import { checkAttribute, sanitizeCss, scopeStyleSheet, type Namespace } from "../lib/export/sanitize/policy.js";

const SVG_NS = "http://www.w3.org/2000/svg";

let instance: { purify: DOMPurify; window: JSDOM["window"] } | undefined;

function purifier(): { purify: DOMPurify; window: JSDOM["window"] } {
  if (!instance) {
    const { window } = new JSDOM("");
    instance = { purify: createDOMPurify(window as unknown as Parameters<typeof createDOMPurify>[0]), window };
  }
  return instance;
}

/** DOMPurify's defaults, no hooks. */
export function dompurifyDefault(markup: string): string {
  const { purify } = purifier();
  purify.removeAllHooks();
  return purify.sanitize(markup);
}

function sanitizeWith(markup: string, options: SanitizeOptions): Sanitized {
  const { purify } = purifier();
  const scope = { prefix: options.idPrefix };
  purify.removeAllHooks();
  purify.addHook("uponSanitizeElement", (node, data) => {
    const element = node as Element;
    if (data.tagName === "script") {
      const type = (element.getAttribute?.("type") ?? "").trim().toLowerCase();
      data.allowedTags.script = type === "application/json" || Boolean(options.keepScript?.(element.textContent ?? ""));
    } else if (data.tagName === "style" && element.parentNode) {
      const css = sanitizeCss(element.textContent ?? "", scope, "sheet");
      const scoped = css === undefined ? undefined : scopeStyleSheet(css, options.containerSelector, scope);
      if (scoped === undefined) element.remove();
      else element.textContent = scoped;
    }
  });
  purify.addHook("uponSanitizeAttribute", (node, data) => {
    const element = node as Element;
    const name = element.localName.toLowerCase();
    if (name === "script") {
      data.keepAttr = data.attrName === "type";
      return;
    }
    const ns: Namespace = element.namespaceURI === SVG_NS ? "svg" : "html";
    const kept = checkAttribute(name, ns, data.attrName, data.attrValue, scope);
    if (kept === undefined) data.keepAttr = false;
    else data.attrValue = kept;
  });
  purify.addHook("afterSanitizeAttributes", (node) => {
    const element = node as Element;
    if (element.localName === "a" && element.namespaceURI !== SVG_NS) element.setAttribute("rel", "noopener noreferrer");
    if (element.localName === "script" && options.nonce) element.setAttribute("nonce", options.nonce);
  });
  // kbook's policy keeps no forms, media or dialogs, and allows target (only _blank, checked by the hook).
  const html = purify.sanitize(markup, {
    ADD_TAGS: ["script"],
    // Else a <style> that starts the input is parsed into <head> and lost.
    FORCE_BODY: true,
    ADD_ATTR: ["target"],
    FORBID_TAGS: ["form", "button", "select", "option", "optgroup", "textarea", "audio", "video", "source", "track", "dialog", "template", "math"],
  });
  const removed = new Map<string, number>();
  for (const item of purify.removed) {
    const entry = item as { element?: Node };
    if (!entry.element || entry.element.nodeType !== 1) continue;
    const name = entry.element.nodeName.toLowerCase();
    removed.set(name, (removed.get(name) ?? 0) + 1);
  }
  purify.removeAllHooks();
  return { html, removed };
}

export function sanitizeHtml(html: string, options: SanitizeOptions): Sanitized {
  return sanitizeWith(html, options);
}

export function sanitizeSvg(svg: string, options: SanitizeOptions): Sanitized {
  const { window } = purifier();
  const xml = new window.DOMParser().parseFromString(svg, "image/svg+xml");
  if (xml.getElementsByTagName("parsererror").length) throw new Error("The SVG is not well-formed XML.");
  return sanitizeWith(svg, options);
}

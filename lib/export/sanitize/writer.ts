/**
 * Re-serialises markup event by event (open, text, close) under the output policy. Whatever the
 * input looked like, the result is markup this writer produced itself: names from the allow-list,
 * attribute values and text escaped, every element closed. So a parser quirk in the input can
 * change what is shown but never smuggle markup past the policy.
 *
 * Flame graphs make this a hot path (a 50k-frame graph is 200k elements), so output is one
 * growing string, and a start tag stays open (`<rect x="1"`) until the writer knows whether the
 * element has content: then it is finished as `>` or, in SVG, as `/>`.
 */
import { escapeHtml } from "../../viz/escape.js";
import { HTML_VOID, checkAttribute, elementAction, sanitizeCss, scopeStyleSheet, type IdScope, type Namespace } from "./policy.js";

export interface SanitizeOptions {
  /** Prefix given to every id in the output (and to in-output references). */
  idPrefix: string;
  /** CSS selector of the element the output is placed in; its <style> rules are nested under it. */
  containerSelector: string;
  /**
   * Decides whether a <script> found in the markup is kept (its text is the argument). Used for
   * kbook's own interactive outputs; by default every script is removed.
   */
  keepScript?: (source: string) => boolean;
  /** The user vouched for the notebook (`--trust`): keep everything, scripts and handlers too. */
  trusted?: boolean;
  /** Written as the `nonce` attribute of every kept script (the page's CSP only runs those). */
  nonce?: string;
}

/** Attributes as a flat list, [name, value, name, value, …], values decoded. */
export type Attributes = readonly string[];

interface Frame {
  name: string;
  /** The name lower-cased, to match end tags. */
  lower: string;
  /** The element's namespace. */
  own: Namespace;
  /** Namespace of the element's children (HTML inside an SVG foreignObject). */
  ns: Namespace;
  /** keep: written; unwrap: children only; drop: nothing; collect: text gathered for a decision. */
  mode: "keep" | "unwrap" | "drop" | "collect";
  /** For collect: the start tag, written only if the collected text is kept. */
  startTag?: string;
  collected?: string;
  /** For <script>: its type attribute, lower-cased ("" when absent). */
  scriptType?: string;
}

export class SanitizingWriter {
  private out = "";
  /** Set while a start tag is written without its ">" (see the file comment). */
  private pending = false;
  private readonly stack: Frame[] = [];
  private readonly scope: IdScope;
  /** Elements removed, by name, so the page can say what an output lost. */
  readonly removed = new Map<string, number>();

  constructor(
    private readonly options: SanitizeOptions,
    private readonly rootNs: Namespace,
  ) {
    this.scope = { prefix: options.trusted ? "" : options.idPrefix };
  }

  open(rawName: string, attributes: Attributes, selfClosing = false): void {
    const parent = this.stack[this.stack.length - 1];
    const name = rawName.toLowerCase();
    if (parent !== undefined && (parent.mode === "drop" || parent.mode === "collect")) {
      if (!selfClosing && !(parent.ns === "html" && HTML_VOID.has(name))) this.stack.push({ name, lower: name, own: parent.ns, ns: parent.ns, mode: "drop" });
      return;
    }
    const parentNs = parent === undefined ? this.rootNs : parent.ns;
    const ns: Namespace = parentNs === "svg" || name === "svg" ? "svg" : "html";
    const mode: Frame["mode"] =
      name === "script" || name === "style" ? "collect" : this.options.trusted ? "keep" : elementAction(name, ns);
    const frame: Frame = { name: rawName, lower: name, own: ns, ns: ns === "svg" && name === "foreignobject" ? "html" : ns, mode };
    if (mode === "keep") {
      this.finishPending();
      this.out += this.startTag(rawName, name, ns, attributes);
      this.pending = true;
    } else if (mode === "collect") {
      frame.startTag = this.startTag(rawName, name, ns, attributes) + ">";
      frame.collected = "";
      if (name === "script") frame.scriptType = typeAttribute(attributes);
    } else if (mode === "drop") this.count(name);
    this.stack.push(frame);
    if (selfClosing || (ns === "html" && HTML_VOID.has(name))) this.pop();
  }

  text(text: string): void {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) {
      if (top.mode === "drop") return;
      if (top.mode === "collect") {
        top.collected += text;
        return;
      }
    }
    this.finishPending();
    this.out += escapeText(text);
  }

  /** Closes the innermost open element called `name` (and any left open inside it); else nothing. */
  close(name: string): void {
    const lower = name.toLowerCase();
    let index = this.stack.length - 1;
    while (index >= 0 && this.stack[index]!.lower !== lower) index--;
    while (index >= 0 && this.stack.length > index) this.pop();
  }

  /** The sanitised markup; closes anything the input left open. */
  finish(): string {
    while (this.stack.length) this.pop();
    this.finishPending();
    return this.out;
  }

  private pop(): void {
    const frame = this.stack.pop()!;
    if (frame.mode === "collect") this.finishCollected(frame);
    else if (frame.mode === "keep") this.endTag(frame);
  }

  private finishPending(): void {
    if (this.pending) {
      this.out += ">";
      this.pending = false;
    }
  }

  /** The start tag without its closing ">". */
  private startTag(rawName: string, name: string, ns: Namespace, attributes: Attributes): string {
    let tag = `<${rawName}`;
    for (let i = 0; i < attributes.length; i += 2) {
      const attrName = attributes[i]!;
      const value = attributes[i + 1]!;
      // A script's src/href would load code from elsewhere; only its type is kept.
      if (name === "script" && attrName.toLowerCase() !== "type") continue;
      const kept = this.options.trusted ? trustedAttribute(attrName, value) : checkAttribute(name, ns, attrName, value, this.scope);
      if (kept !== undefined) tag += ` ${attrName}="${escapeAttribute(kept)}"`;
    }
    if (ns === "html" && name === "a" && !this.options.trusted) tag += ' rel="noopener noreferrer"';
    if (name === "script" && this.options.nonce) tag += ` nonce="${escapeAttribute(this.options.nonce)}"`;
    return tag;
  }

  private endTag(frame: Frame): void {
    if (this.pending) {
      this.pending = false;
      // SVG (foreign content) allows `<rect/>`, which keeps 50k-frame graphs noticeably smaller.
      if (frame.own === "svg") return void (this.out += "/>");
      this.out += ">";
      if (HTML_VOID.has(frame.name.toLowerCase())) return;
    }
    this.out += `</${frame.name}>`;
  }

  /** A <script> or <style> whose text decides whether (and how) it is written. */
  private finishCollected(frame: Frame): void {
    const source = frame.collected!;
    const name = frame.name.toLowerCase();
    const inHtml = frame.own === "html";
    let body: string | undefined;
    if (name === "style") {
      const css = this.options.trusted ? source : sanitizeCss(source, this.scope, "sheet");
      body = css === undefined ? undefined : scopeStyleSheet(css, this.options.containerSelector, this.scope);
    } else if (this.options.trusted || frame.scriptType === "application/json" || this.options.keepScript?.(source)) {
      body = source;
    }
    // An HTML <script>/<style> is raw text: it cannot be escaped, so it must not be able to end
    // itself early. In SVG (foreign content) the HTML parser decodes character references inside
    // them, so escaped text reads back as the original.
    if (body !== undefined && inHtml && new RegExp(`</${name}|<!--`, "i").test(body)) body = undefined;
    if (body === undefined) {
      this.count(name);
      return;
    }
    this.finishPending();
    this.out += `${frame.startTag}${inHtml ? body : escapeText(body)}</${frame.name}>`;
  }

  private count(name: string): void {
    this.removed.set(name, (this.removed.get(name) ?? 0) + 1);
  }
}

/** A <script type="application/json"> is data the browser never runs (kbook's lists keep items in one). */
function typeAttribute(attributes: Attributes): string {
  for (let i = 0; i < attributes.length; i += 2) if (attributes[i]!.toLowerCase() === "type") return attributes[i + 1]!.trim().toLowerCase();
  return "";
}

/** With --trust only names that cannot break the markup are required. */
function trustedAttribute(name: string, value: string): string | undefined {
  return /^[a-zA-Z_:][-a-zA-Z0-9_:.]*$/.test(name) ? value : undefined;
}

function escapeText(text: string): string {
  return /[&<>]/.test(text) ? text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;") : text;
}

function escapeAttribute(value: string): string {
  return /[&<>"']/.test(value) ? escapeHtml(value) : value;
}

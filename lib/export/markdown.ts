/**
 * Markdown cells to HTML with marked. Raw HTML written in markdown is shown as text, never
 * interpreted: a cell that contains `<script>` displays it. Links keep only schemes that cannot
 * run code; images are inlined (cell attachments, files next to the notebook) so the page needs
 * no network, and a remote image becomes a link to it instead of a request.
 */
import { readFileSync } from "node:fs";
import { extname, isAbsolute, relative, resolve } from "node:path";
import { Marked } from "marked";
import { escapeHtml } from "../viz/escape.js";
import { highlightCode } from "./highlight.js";
import { joinText, type MimeBundle } from "./notebook.js";

export interface Heading {
  depth: number;
  /** Plain text of the heading, for the table of contents. */
  text: string;
  /** The unique id of the heading element. */
  id: string;
}

export interface MarkdownContext {
  /** Folder the notebook is in, for relative image paths; without it they are left as links. */
  baseDir?: string;
  /** The cell's attachments (`![](attachment:name.png)`). */
  attachments?: Record<string, MimeBundle>;
}

const IMAGE_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
};

/** Renders the markdown of one notebook; collects headings (with unique ids) across cells. */
export class MarkdownRenderer {
  readonly headings: Heading[] = [];
  private readonly usedIds: Set<string>;
  private readonly collectHeadings: boolean;
  private context: MarkdownContext = {};
  private readonly marked: Marked;

  /**
   * `usedIds` is shared by every renderer of a page so heading ids never repeat; headings are
   * collected for the table of contents unless `collectHeadings` is false (markdown outputs).
   */
  constructor(options: { usedIds?: Set<string>; collectHeadings?: boolean } = {}) {
    this.usedIds = options.usedIds ?? new Set();
    this.collectHeadings = options.collectHeadings ?? true;
    const self = this;
    this.marked = new Marked({
      gfm: true,
      async: false,
      renderer: {
        html({ text }) {
          return escapeHtml(text);
        },
        heading({ tokens, depth }) {
          const inner = this.parser.parseInline(tokens);
          const text = plainText(inner);
          const id = self.uniqueId(text);
          if (self.collectHeadings) self.headings.push({ depth, text, id });
          return `<h${depth} id="${id}">${inner}<a class="anchor" href="#${id}" aria-label="link to this section">#</a></h${depth}>\n`;
        },
        code({ text, lang }) {
          const language = (lang ?? "").split(/\s/)[0];
          return `<pre class="code"><code class="hljs">${highlightCode(text.replace(/\n$/, ""), language)}</code></pre>\n`;
        },
        link({ href, title, tokens }) {
          const inner = this.parser.parseInline(tokens);
          const url = safeLinkUrl(href);
          if (url === undefined) return inner;
          const external = /^[a-z][a-z0-9+.-]*:/i.test(url);
          return `<a href="${escapeHtml(url)}"${title ? ` title="${escapeHtml(title)}"` : ""}${external ? ' rel="noopener noreferrer"' : ""}>${inner}</a>`;
        },
        image({ href, title, text }) {
          return self.image(href, title ?? undefined, text);
        },
      },
    });
  }

  /** HTML for one markdown cell. */
  render(source: string, context: MarkdownContext = {}): string {
    this.context = context;
    try {
      return this.marked.parse(source) as string;
    } finally {
      this.context = {};
    }
  }

  /** A slug of `text` not used before in this page. */
  uniqueId(text: string): string {
    const slug =
      text
        .toLowerCase()
        .normalize("NFKD")
        .replace(/[\u0300-\u036f]/g, "")
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .trim()
        .replace(/\s+/g, "-")
        .slice(0, 80) || "section";
    // The page names cells cell-N and outputs oN (ids inside an output oN-…): a heading never does.
    const base = /^(?:o\d+|cell-\d+)(?:-|$)/.test(slug) ? `section-${slug}` : slug;
    let id = base;
    for (let n = 2; this.usedIds.has(id); n++) id = `${base}-${n}`;
    this.usedIds.add(id);
    return id;
  }

  private image(href: string, title: string | undefined, alt: string): string {
    const titleAttr = title ? ` title="${escapeHtml(title)}"` : "";
    const source = this.inlineImage(href);
    if (source) return `<img src="${escapeHtml(source)}" alt="${escapeHtml(alt)}"${titleAttr}>`;
    const url = safeLinkUrl(href);
    const label = `[image: ${escapeHtml(alt || href)}]`;
    return url ? `<a class="image-link" href="${escapeHtml(url)}" rel="noopener noreferrer"${titleAttr}>${label}</a>` : label;
  }

  /** A data: URI for an attachment or a local image file, or undefined. */
  private inlineImage(href: string): string | undefined {
    if (href.startsWith("attachment:")) {
      const bundle = this.context.attachments?.[decodeURIComponent(href.slice("attachment:".length))];
      if (!bundle) return undefined;
      for (const type of ["image/png", "image/jpeg", "image/gif", "image/webp"]) {
        if (typeof bundle[type] === "string" || Array.isArray(bundle[type])) {
          return `data:${type};base64,${joinText(bundle[type]).replace(/\s/g, "")}`;
        }
      }
      if (bundle["image/svg+xml"] !== undefined) return svgDataUri(joinText(bundle["image/svg+xml"]));
      return undefined;
    }
    if (/^data:image\/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]+$/i.test(href)) return href.replace(/\s/g, "");
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("//") || !this.context.baseDir) return undefined;
    const type = IMAGE_TYPES[extname(href.split(/[?#]/)[0]!).toLowerCase()];
    if (!type) return undefined;
    const path = decodeURIComponent(href.split(/[?#]/)[0]!);
    // Like a Jupyter server, only files under the notebook's folder: a notebook from elsewhere
    // must not be able to copy other images from the exporting machine into the page.
    const file = resolve(this.context.baseDir, path);
    const inside = relative(this.context.baseDir, file);
    if (isAbsolute(path) || inside.startsWith("..") || isAbsolute(inside)) return undefined;
    try {
      const bytes = readFileSync(file);
      return type === "image/svg+xml" ? svgDataUri(bytes.toString("utf8")) : `data:${type};base64,${bytes.toString("base64")}`;
    } catch {
      return undefined;
    }
  }
}

/** An SVG as an <img> source: scripts never run in an image, so it needs no sanitizing. */
function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}`;
}

/**
 * The link target if following it cannot run code in the page: http(s), mailto, in-page
 * fragments and relative paths. javascript:, data:, vbscript: and unknown schemes are refused
 * (the link text stays, without a link).
 */
export function safeLinkUrl(href: string): string | undefined {
  // Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
  const compact = href.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(compact)?.[1]?.toLowerCase();
  if (scheme === undefined) return compact.startsWith("//") ? `https:${href.trim()}` : href.trim();
  return ["http", "https", "mailto"].includes(scheme) ? href.trim() : undefined;
}

/** Text of rendered inline HTML, for heading ids and the table of contents. */
function plainText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .trim();
}


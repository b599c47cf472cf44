/**
 * The HTML document around the cells: title, contents, styles and scripts, all inline so the
 * file stands alone. A Content-Security-Policy in the page makes "no network, no stray script"
 * a property the browser enforces, not only something the exporter intends: nothing can be
 * fetched (images and fonts only from data: URLs), and only scripts carrying this export's nonce
 * run — kbook's own page code, the vega runtime, and scripts the trust policy kept.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { assetPath } from "../paths.js";
import { TABLE_CSS } from "../viz/html.js";
import { assertInlineableScript, escapeHtml } from "../viz/escape.js";
import type { Heading } from "./markdown.js";
import { vegaRuntimeScript } from "./vega.js";

export interface PageParts {
  title: string;
  /** e.g. "TypeScript (kbook)", shown under the title. */
  kernelName?: string;
  /** Whether the title is also the notebook's first heading (then it is not repeated). */
  titleFromHeading: boolean;
  headings: Heading[];
  cellsHtml: string;
  usesVega: boolean;
  nonce: string;
  /** With --trust, outputs' own inline scripts and event handlers must run too. */
  trusted: boolean;
}

let staticParts: { css: string; script: string } | undefined;

function pageAssets(): { css: string; script: string } {
  if (staticParts) return staticParts;
  const require = createRequire(import.meta.url);
  const highlightTheme = readFileSync(require.resolve("highlight.js/styles/github.css"), "utf8");
  // kbook's tables (lib/viz) carry classes, not styles: their sheet is part of the page.
  const css = `${readFileSync(assetPath("export", "export.css"), "utf8")}\n${highlightTheme}\n${TABLE_CSS}`;
  if (/<\/style/i.test(css)) throw new Error("kbook: the export style sheet contains </style");
  const script = assertInlineableScript(readFileSync(assetPath("export", "page.js"), "utf8"), "assets/export/page.js");
  staticParts = { css, script };
  return staticParts;
}

function contentSecurityPolicy(nonce: string, trusted: boolean): string {
  const scripts = trusted ? "'unsafe-inline' 'unsafe-eval'" : `'nonce-${nonce}' 'unsafe-eval'`;
  // 'unsafe-eval': vega compiles its expression language to functions.
  return [
    "default-src 'none'",
    `script-src ${scripts}`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    "font-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

interface ContentsNode {
  heading?: Heading;
  children: ContentsNode[];
}

/** The table of contents as nested lists (levels 1–3); empty for fewer than two headings. */
export function renderContents(headings: readonly Heading[]): string {
  const shown = headings.filter((h) => h.depth <= 3);
  if (shown.length < 2) return "";
  const root: ContentsNode = { children: [] };
  const open: { depth: number; node: ContentsNode }[] = [{ depth: 0, node: root }];
  for (const heading of shown) {
    while (open[open.length - 1]!.depth >= heading.depth) open.pop();
    const node: ContentsNode = { heading, children: [] };
    open[open.length - 1]!.node.children.push(node);
    open.push({ depth: heading.depth, node });
  }
  const list = (nodes: ContentsNode[]): string =>
    `<ol>${nodes
      .map((n) => `<li><a href="#${escapeHtml(n.heading!.id)}">${escapeHtml(n.heading!.text)}</a>${n.children.length ? list(n.children) : ""}</li>`)
      .join("")}</ol>`;
  return list(root.children);
}

export function renderPage(parts: PageParts): string {
  const { css, script } = pageAssets();
  const nonce = escapeHtml(parts.nonce);
  const contents = renderContents(parts.headings);
  const header = parts.titleFromHeading
    ? ""
    : `<header class="notebook-header"><h1>${escapeHtml(parts.title)}</h1>${
        parts.kernelName ? `<p class="meta">${escapeHtml(parts.kernelName)}</p>` : ""
      }</header>`;
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(parts.nonce, parts.trusted))}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="kbook export">',
    `<title>${escapeHtml(parts.title)}</title>`,
    `<style>${css}</style>`,
    "</head>",
    "<body>",
    `<div class="layout">`,
    contents ? `<nav class="toc" aria-label="Contents"><p class="toc-title">Contents</p>${contents}</nav>` : "<div></div>",
    `<main id="notebook">`,
    header,
    parts.cellsHtml,
    "</main>",
    "</div>",
    parts.usesVega ? `<script nonce="${nonce}">${vegaRuntimeScript()}</script>` : "",
    `<script nonce="${nonce}">${script}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

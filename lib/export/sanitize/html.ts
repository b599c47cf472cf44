/**
 * HTML outputs (kbook's tables, other libraries' HTML reprs) are parsed with linkedom's HTML
 * parser, which repairs markup as browsers do, then walked into the sanitizing writer. HTML
 * outputs are small next to SVG flame graphs, so a DOM is affordable here.
 */
import { parseHTML } from "linkedom";
import type { SanitizingWriter } from "./writer.js";

interface DomNode {
  nodeType: number;
  nodeName: string;
  localName?: string;
  data?: string;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
  attributes?: ArrayLike<{ name: string; value: string }>;
}

/** Feeds the nodes of an HTML fragment to `writer`. */
export function walkHtml(html: string, writer: SanitizingWriter): void {
  const { document } = parseHTML(`<!DOCTYPE html><html><head></head><body>${html}</body></html>`);
  // Content the parser moved into <head> (a leading <style> or <meta>) is part of the output too.
  for (const parent of [document.head, document.body] as unknown as DomNode[]) {
    for (const child of Array.from(parent.childNodes)) walk(child, writer);
  }
}

function walk(node: DomNode, writer: SanitizingWriter): void {
  if (node.nodeType === 3 || node.nodeType === 4) {
    writer.text(node.data ?? node.textContent ?? "");
    return;
  }
  if (node.nodeType !== 1) return;
  const name = node.localName ?? node.nodeName.toLowerCase();
  const attributes = Array.from(node.attributes ?? [], (a) => [a.name, a.value] as const);
  writer.open(name, attributes);
  for (const child of Array.from(node.childNodes)) walk(child, writer);
  writer.close(name);
}

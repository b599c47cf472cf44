/**
 * A small strict XML tokenizer feeding the sanitizing writer, for SVG outputs. Flame graphs are
 * large (a 50k-frame graph is ~10 MB of SVG); a DOM parser takes seconds on them, this reads one
 * in a few hundred milliseconds. SVG is XML, so input that is not well-formed is refused rather
 * than repaired.
 */
import { UsageError } from "../../errors/index.js";
import type { SanitizingWriter } from "./writer.js";

const NAME = "[A-Za-z_][-A-Za-z0-9_.:]*";
const START = new RegExp(`<(${NAME})`, "y");
const ATTRIBUTE = new RegExp(`\\s+(${NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, "y");
const START_END = /\s*(\/?)>/y;
const END = new RegExp(`</(${NAME})\\s*>`, "y");
const OTHER = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE(?:[^>[]|\[[\s\S]*?\])*>/y;
const TEXT = /[^<]+/y;

const XML_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Decodes XML's five named references and numeric ones; an unknown reference is kept as text. */
export function decodeXmlText(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : "\ufffd";
    }
    return XML_ENTITIES[ref] ?? whole;
  });
}

/** Feeds the events of an XML document to `writer`; throws UsageError when it is not well-formed. */
export function tokenizeXml(xml: string, writer: SanitizingWriter, what = "SVG"): void {
  const open: string[] = [];
  let at = 0;
  const fail = (why: string): never => {
    const line = xml.slice(0, at).split("\n").length;
    throw new UsageError(`The ${what} is not well-formed XML (${why}, line ${line}).`);
  };
  while (at < xml.length) {
    const c = xml.charCodeAt(at);
    if (c !== 60 /* < */) {
      TEXT.lastIndex = at;
      const text = TEXT.exec(xml)![0];
      at += text.length;
      if (open.length) writer.text(decodeXmlText(text));
      else if (text.trim()) fail("text outside the root element");
      continue;
    }
    const next = xml.charCodeAt(at + 1);
    if (next === 47 /* / */) {
      END.lastIndex = at;
      const end = END.exec(xml) ?? fail("a broken end tag");
      if (open.pop() !== end[1]) fail(`</${end[1]}> does not close the open element`);
      writer.close(end[1]!);
      at = END.lastIndex;
      continue;
    }
    if (next === 33 /* ! */ || next === 63 /* ? */) {
      OTHER.lastIndex = at;
      const other = OTHER.exec(xml) ?? fail("a broken comment, CDATA section or declaration");
      if (other[1] !== undefined && open.length) writer.text(other[1]);
      at = OTHER.lastIndex;
      continue;
    }
    START.lastIndex = at;
    const start = START.exec(xml) ?? fail("a stray '<'");
    const name = start[1]!;
    at = START.lastIndex;
    const attributes: [string, string][] = [];
    for (;;) {
      ATTRIBUTE.lastIndex = at;
      const attribute = ATTRIBUTE.exec(xml);
      if (!attribute) break;
      attributes.push([attribute[1]!, decodeXmlText(attribute[2] ?? attribute[3] ?? "")]);
      at = ATTRIBUTE.lastIndex;
    }
    START_END.lastIndex = at;
    const startEnd = START_END.exec(xml) ?? fail(`a broken <${name}> tag`);
    at = START_END.lastIndex;
    const selfClosing = startEnd[1] === "/";
    if (!selfClosing) open.push(name);
    writer.open(name, attributes, selfClosing);
  }
  if (open.length) fail(`<${open[open.length - 1]}> is never closed`);
}

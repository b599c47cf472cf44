/**
 * A small strict XML tokenizer feeding the sanitizing writer, for SVG outputs. Flame graphs are
 * large (a 50k-frame graph is ~10 MB of SVG); a DOM parser takes seconds on them, this reads one
 * in a few hundred milliseconds. SVG is XML, so input that is not well-formed is refused rather
 * than repaired.
 */
import { UsageError } from "../../errors/index.js";
import type { SanitizingWriter } from "./writer.js";

const NAME = "[A-Za-z_][-A-Za-z0-9_.:]*";
const END = new RegExp(`</(${NAME})\\s*>`, "y");
const OTHER = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE(?:[^>[]|\[[\s\S]*?\])*>/y;

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

/** Name characters: letters, digits, "_", "-", ".", ":" (ASCII; enough for SVG). */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46 || c === 58;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/**
 * Feeds the events of an XML document to `writer`; throws UsageError when it is not well-formed.
 * Start tags are scanned by hand rather than by regular expression: on a flame graph that is
 * most of the work, and it saves a match object per attribute.
 */
export function tokenizeXml(xml: string, writer: SanitizingWriter, what = "SVG"): void {
  const open: string[] = [];
  // One attribute list reused for every tag: [name, value, name, value, …]. The writer copies
  // what it keeps before the next tag.
  const attributes: string[] = [];
  const length = xml.length;
  let at = 0;
  const fail = (why: string): never => {
    const line = xml.slice(0, at).split("\n").length;
    throw new UsageError(`The ${what} is not well-formed XML (${why}, line ${line}).`);
  };
  while (at < length) {
    if (xml.charCodeAt(at) !== 60 /* < */) {
      let end = xml.indexOf("<", at);
      if (end < 0) end = length;
      const text = xml.slice(at, end);
      at = end;
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
    // Start tag: <name (space name = "value" | 'value')* space? /? >
    let i = at + 1;
    const first = xml.charCodeAt(i);
    if (!((first >= 97 && first <= 122) || (first >= 65 && first <= 90) || first === 95)) fail("a stray '<'");
    while (i < length && isNameChar(xml.charCodeAt(i))) i++;
    const name = xml.slice(at + 1, i);
    attributes.length = 0;
    for (;;) {
      const before = i;
      while (i < length && isSpace(xml.charCodeAt(i))) i++;
      const c = xml.charCodeAt(i);
      if (c === 62 /* > */ || c === 47 /* / */ || i >= length) break;
      if (i === before) fail(`a broken <${name}> tag`);
      const nameStart = i;
      while (i < length && isNameChar(xml.charCodeAt(i))) i++;
      if (i === nameStart) fail(`a broken <${name}> tag`);
      const attributeName = xml.slice(nameStart, i);
      while (isSpace(xml.charCodeAt(i))) i++;
      if (xml.charCodeAt(i) !== 61 /* = */) fail(`attribute ${attributeName} of <${name}> has no value`);
      i++;
      while (isSpace(xml.charCodeAt(i))) i++;
      const quote = xml.charCodeAt(i);
      if (quote !== 34 && quote !== 39) fail(`attribute ${attributeName} of <${name}> is not quoted`);
      const close = xml.indexOf(quote === 34 ? '"' : "'", i + 1);
      if (close < 0) fail(`attribute ${attributeName} of <${name}> never ends`);
      const value = xml.slice(i + 1, close);
      if (value.includes("<")) fail(`attribute ${attributeName} of <${name}> contains '<'`);
      attributes.push(attributeName, decodeXmlText(value));
      i = close + 1;
    }
    const selfClosing = xml.charCodeAt(i) === 47;
    if (selfClosing) i++;
    if (xml.charCodeAt(i) !== 62) fail(`a broken <${name}> tag`);
    at = i + 1;
    if (!selfClosing) open.push(name);
    writer.open(name, attributes, selfClosing);
  }
  if (open.length) fail(`<${open[open.length - 1]}> is never closed`);
}

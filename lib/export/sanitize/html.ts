/**
 * HTML outputs (kbook's tables, other libraries' HTML reprs) are tokenized by htmlparser2, which
 * reads HTML as browsers write it (unquoted attributes, optional end tags, raw-text <script> and
 * <style>), and streamed into the sanitizing writer. No DOM is built: linkedom would do the same
 * job but costs ~0.6 s to load, a third of the export budget.
 */
import { Parser } from "htmlparser2";
import type { SanitizingWriter } from "./writer.js";

/** Feeds the events of an HTML fragment to `writer`. */
export function tokenizeHtml(html: string, writer: SanitizingWriter): void {
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        writer.open(name, Object.entries(attributes).flat());
      },
      ontext(text) {
        writer.text(text);
      },
      // Also called for void elements and for elements the input left open: the writer ignores
      // a close that matches nothing open.
      onclosetag(name) {
        writer.close(name);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true, recognizeCDATA: true },
  );
  parser.write(html);
  parser.end();
}

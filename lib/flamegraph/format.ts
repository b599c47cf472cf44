/**
 * Number and text formatting with flamegraph.pl's results: Perl's sprintf ("%.2f" rounds the
 * exact binary value, ties to even, as C's printf does), thousands separators, and escaping for
 * SVG/XML text and attributes.
 */

/** C/Perl `sprintf("%.{digits}f", x)`. JS toFixed breaks exact ties upwards; C breaks them to even. */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "Inf" : x < 0 ? "-Inf" : "NaN";
  const text = x.toFixed(digits);
  // A tie is rare: only when the scaled value ends in exactly .5 can it be one (a tie is
  // representable, so the product is exact); only then is the exact expansion looked at.
  const scaledAbs = Math.abs(x) * 10 ** digits;
  if (scaledAbs - Math.floor(scaledAbs) !== 0.5) return text;
  // An exact tie is a value whose expansion is ...5000… at the first dropped digit.
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 60));
  const dropped = exact.slice(exact.indexOf(".") + 1 + digits);
  if (!/^50*$/.test(dropped)) return text;
  const lower = Math.floor(scaledAbs);
  if (lower % 2 === 0) {
    // Round down to the even neighbour.
    const down = (Math.sign(x) * lower) / 10 ** digits;
    const result = Math.abs(down).toFixed(digits);
    return (x < 0 ? "-" : "") + result;
  }
  return text;
}

/** "1234567" → "1,234,567" (Perl's perlfaq5 comma insertion, on the integer part). */
export function withCommas(text: string): string {
  const m = /^([-+]?)(\d+)(.*)$/s.exec(text);
  if (!m) return text;
  return m[1]! + m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + m[3]!;
}

// XML 1.0 forbids most C0 controls and these code points even as character references.
const XML_INVALID = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for an SVG text node or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(XML_INVALID, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Text that may be put inside a `<!-- -->` comment. */
export function escapeComment(text: string): string {
  return escapeXml(text).replace(/--/g, "- -");
}

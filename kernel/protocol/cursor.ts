/**
 * Jupyter (protocol ≥ 5.2) counts cursor positions in Unicode code points; JavaScript strings
 * index UTF-16 code units. They differ after any character outside the BMP (an emoji).
 */

/** UTF-16 offset of the `codePoints`-th code point of `text`. */
export function codePointsToUtf16(text: string, codePoints: number): number {
  let offset = 0;
  for (let i = 0; i < codePoints && offset < text.length; i++) offset += text.codePointAt(offset)! > 0xffff ? 2 : 1;
  return offset;
}

/** Number of code points in `text` before UTF-16 offset `offset`. */
export function utf16ToCodePoints(text: string, offset: number): number {
  let count = 0;
  for (let i = 0; i < offset && i < text.length; count++) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  return count;
}

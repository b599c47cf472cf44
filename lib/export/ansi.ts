/**
 * Terminal text (stream output, tracebacks) to escaped HTML. SGR colour and style codes become
 * spans; every other escape sequence (cursor moves, OSC titles and links) is dropped. Carriage
 * returns overwrite the line as a terminal would, so progress bars show their final state, as
 * Jupyter shows them.
 *
 * Why not a library: compared on the cases below (named, bright, 256 and RGB colours, bold
 * ended by 22, reset, inverse, `<` and `&` in text, gcc's `ESC[01m ESC[K` diagnostics, OSC
 * titles and links, `\r` progress lines), none does the job as well:
 * - ansi_up 6.0.6 (use_classes) comes closest, with the same colour classes, but ignores inverse
 *   (SGR 7), writes bold/faint/italic/underline as inline styles the page's theme cannot restyle,
 *   leaves OSC titles in the text (`]0;title^G`), applies no `\r` or backspace, carries its
 *   state from one output into the next unless re-created, and turns OSC 8 into `<a href>` links
 *   chosen by the program's output. Adopting it would keep this file's carriage-return and
 *   escape-stripping half and save ~70 lines of SGR handling.
 * - anser 2.3.5 loses gcc's bold and red (kernel build errors are what kbook shows most), makes
 *   256 colours `ansi-palette-N` classes that need a 256-rule stylesheet and RGB colours data-
 *   attributes that show nothing without script, and leaves OSC sequences raw in the text.
 * - ansi-to-html 0.7.2 has inline colours only (no theming), ignores inverse, leaves OSC and
 *   private sequences (`?25l`) in the text and nests spans without bound.
 * Speed does not decide it: ~220 ms per MB here against ansi_up's ~100, and stream outputs are
 * kilobytes.
 */
import { escapeHtml } from "../viz/escape.js";

const COLOR_NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

interface Style {
  fg?: string;
  bg?: string;
  bold?: boolean;
  faint?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

/** Named colours are classes (themeable in CSS); 256-colour and RGB values are inline styles. */
type Color = { cls: string } | { rgb: [number, number, number] };

// CSI ... final byte, OSC ... BEL/ST, and two-byte ESC sequences.
const ESCAPE = /\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;

/** Converts text with ANSI escapes to HTML (without a wrapping element). */
export function ansiToHtml(text: string): string {
  let html = "";
  let style: Style = {};
  let colors: { fg?: Color; bg?: Color } = {};
  let last = 0;
  const source = applyCarriageReturns(text);
  const emit = (chunk: string) => {
    if (!chunk) return;
    const open = openTag(style, colors);
    html += open ? `${open}${escapeHtml(chunk)}</span>` : escapeHtml(chunk);
  };
  for (const match of source.matchAll(ESCAPE)) {
    emit(source.slice(last, match.index));
    last = match.index! + match[0].length;
    if (match[2] === "m") [style, colors] = applySgr(match[1] ?? "", style, colors);
  }
  emit(source.slice(last));
  return html;
}

/** The text with escape sequences removed (for titles, search text, plain-text fallbacks). */
export function stripAnsi(text: string): string {
  return applyCarriageReturns(text).replace(ESCAPE, "");
}

function applyCarriageReturns(text: string): string {
  if (!text.includes("\r") && !text.includes("\x08")) return text;
  return text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => {
      const visible = line.slice(line.lastIndexOf("\r") + 1);
      if (!visible.includes("\x08")) return visible;
      // Backspace erases the character before it.
      const kept: string[] = [];
      for (const c of visible) c === "\x08" ? kept.pop() : kept.push(c);
      return kept.join("");
    })
    .join("\n");
}

function applySgr(params: string, style: Style, colors: { fg?: Color; bg?: Color }): [Style, { fg?: Color; bg?: Color }] {
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
  let next = { ...style };
  let nextColors = { ...colors };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (code === 0) {
      next = {};
      nextColors = {};
    } else if (code === 1) next.bold = true;
    else if (code === 2) next.faint = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 22) next.bold = next.faint = false;
    else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code === 27) next.inverse = false;
    else if (code >= 30 && code <= 37) nextColors.fg = { cls: `ansi-${COLOR_NAMES[code - 30]}` };
    else if (code >= 90 && code <= 97) nextColors.fg = { cls: `ansi-bright-${COLOR_NAMES[code - 90]}` };
    else if (code >= 40 && code <= 47) nextColors.bg = { cls: `ansi-${COLOR_NAMES[code - 40]}` };
    else if (code >= 100 && code <= 107) nextColors.bg = { cls: `ansi-bright-${COLOR_NAMES[code - 100]}` };
    else if (code === 39) delete nextColors.fg;
    else if (code === 49) delete nextColors.bg;
    else if (code === 38 || code === 48) {
      const [color, used] = extendedColor(codes, i + 1);
      i += used;
      if (color) nextColors[code === 38 ? "fg" : "bg"] = color;
    }
  }
  return [next, nextColors];
}

/** `5;n` (xterm 256 colours) or `2;r;g;b`; returns the colour and how many codes it used. */
function extendedColor(codes: number[], at: number): [Color | undefined, number] {
  if (codes[at] === 5) {
    const n = codes[at + 1];
    return [n === undefined ? undefined : xterm256(n), 2];
  }
  if (codes[at] === 2) {
    const rgb = codes.slice(at + 1, at + 4).map((v) => Math.max(0, Math.min(255, v | 0)));
    return [rgb.length === 3 ? { rgb: rgb as [number, number, number] } : undefined, 4];
  }
  return [undefined, 0];
}

function xterm256(n: number): Color | undefined {
  if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
  if (n < 8) return { cls: `ansi-${COLOR_NAMES[n]}` };
  if (n < 16) return { cls: `ansi-bright-${COLOR_NAMES[n - 8]}` };
  if (n < 232) {
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    const i = n - 16;
    return { rgb: [level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6)] };
  }
  const grey = 8 + (n - 232) * 10;
  return { rgb: [grey, grey, grey] };
}

function openTag(style: Style, colors: { fg?: Color; bg?: Color }): string {
  const classes: string[] = [];
  const css: string[] = [];
  // Inverse video swaps the colours; a missing one means the terminal default, which has classes
  // of its own because "the page's background" is only known to the stylesheet.
  const fg = style.inverse ? colors.bg : colors.fg;
  const bg = style.inverse ? colors.fg : colors.bg;
  if (fg) "cls" in fg ? classes.push(`${fg.cls}-fg`) : css.push(`color:rgb(${fg.rgb.join(",")})`);
  else if (style.inverse) classes.push("ansi-inverse-fg");
  if (bg) "cls" in bg ? classes.push(`${bg.cls}-bg`) : css.push(`background-color:rgb(${bg.rgb.join(",")})`);
  else if (style.inverse) classes.push("ansi-inverse-bg");
  if (style.bold) classes.push("ansi-bold");
  if (style.faint) classes.push("ansi-faint");
  if (style.italic) classes.push("ansi-italic");
  if (style.underline) classes.push("ansi-underline");
  if (!classes.length && !css.length) return "";
  return `<span${classes.length ? ` class="${classes.join(" ")}"` : ""}${css.length ? ` style="${css.join(";")}"` : ""}>`;
}

/**
 * Folded stacks → an interactive SVG flame graph with flamegraph.pl's layout and numbers: the
 * same frames, widths, colours and tooltip text ("name (1,234 samples, 5.67%)"). The SVG is
 * self-contained (no network) and scoped by its element id, so several graphs can share a page.
 */
import { readFileSync } from "node:fs";
import { assetPath } from "../paths.js";
import { UsageError } from "../errors/index.js";
import { FoldedStacks, formatCount } from "./folded.js";
import { escapeComment, escapeXml, formatFixed, withCommas } from "./format.js";
import { mergeFolded, textLines, type FrameNode } from "./merge.js";
import { resolveFlameGraphOptions, type FlameGraphOptions, type ResolvedFlameGraphOptions } from "./options.js";
import { deltaColor, frameColor } from "./palette.js";

const XPAD = 10;
const FRAMEPAD = 1;
const ANNOTATION = /_\[[kwij]\]$/;

let assetCache: { script: string; style: string } | undefined;

function assets(): { script: string; style: string } {
  assetCache ??= {
    script: readFileSync(assetPath("flamegraph", "flamegraph.js"), "utf8"),
    style: readFileSync(assetPath("flamegraph", "flamegraph.css"), "utf8"),
  };
  return assetCache;
}

/** Perl prints numbers with %.15g; the layout values are mostly integers. */
const num = formatCount;

/** Code-point-aware length and prefix (Perl counts characters, not UTF-16 units). */
function charLength(text: string): number {
  return /[\uD800-\uDFFF]/.test(text) ? [...text].length : text.length;
}
function charPrefix(text: string, n: number): string {
  return /[\uD800-\uDFFF]/.test(text) ? [...text].slice(0, n).join("") : text.slice(0, n);
}

/** The label drawn in a frame `widthPx` wide: as many characters as fit, ".." when cut. */
export function frameLabel(name: string, widthPx: number, fontsize: number, fontwidth: number): string {
  const chars = Math.trunc(widthPx / (fontsize * fontwidth));
  if (chars < 3) return "";
  const func = name.replace(ANNOTATION, "");
  let text = charPrefix(func, chars);
  if (chars < charLength(func)) text = charPrefix(text, charLength(text) - 2) + "..";
  return text;
}

/** The tooltip/details text of a frame, exactly as flamegraph.pl writes it (before escaping). */
export function frameInfo(node: FrameNode, timemax: number, o: Pick<ResolvedFlameGraphOptions, "factor" | "countname" | "negate">): string {
  const samples = formatFixed((node.end - node.start) * o.factor, 0);
  const samplesText = withCommas(samples);
  if (node.name === "" && node.depth === 0) return `all (${samplesText} ${o.countname}, 100%)`;
  const pct = formatFixed((100 * Number(samples)) / (timemax * o.factor), 2);
  const name = node.name.replace(ANNOTATION, "");
  if (node.delta === undefined) return `${name} (${samplesText} ${o.countname}, ${pct}%)`;
  const d = o.negate ? -node.delta : node.delta;
  let deltaPct = formatFixed((100 * d) / (timemax * o.factor), 2);
  if (d > 0) deltaPct = `+${deltaPct}`;
  return `${name} (${samplesText} ${o.countname}, ${pct}%; ${deltaPct}%)`;
}

function cssFont(font: string): string {
  // The font name goes into a style sheet: keep it to characters that cannot end the rule.
  return font.replace(/[^\w \-,.'"]/g, "");
}

export interface FlameGraphResult {
  /** A standalone SVG document (XML prolog, doctype, and the script inside the <svg>). */
  svg: string;
  /**
   * The same drawing as an <svg> element for an HTML page: no prolog or doctype (HTML has no
   * place for them) and no script, which an HTML page runs as a <script> of its own (`script`).
   */
  element: string;
  /** The interactivity, as JavaScript (`flamegraph.js(config);`), when the graph is interactive. */
  script?: string;
  /** Frames drawn (after --minwidth pruning). */
  frames: number;
  /** Frames left out for being narrower than --minwidth. */
  pruned: number;
  /** Sum of counts. */
  total: number;
  /** Input lines that were not folded stacks. */
  ignored: number;
  firstIgnored?: { line: number; text: string };
}

/** Renders folded stacks to an SVG string. Throws UsageError when there are no counts. */
export function renderFlameGraph(folded: string | string[] | FoldedStacks, options: FlameGraphOptions = {}): string {
  return renderFlameGraphDetailed(folded, options).svg;
}

/** renderFlameGraph with counts about what was drawn and ignored. */
export function renderFlameGraphDetailed(folded: string | string[] | FoldedStacks, options: FlameGraphOptions = {}): FlameGraphResult {
  const o = resolveFlameGraphOptions(options);
  const lines = folded instanceof FoldedStacks ? textLines(folded.toString()) : folded;
  const widthFor = (total: number) => (o.total !== undefined && o.total > total ? o.total : total);
  const merged = mergeFolded(lines, {
    reverse: o.reverse,
    flamechart: o.flamechart,
    chain: o.colors === "chain",
    // flamegraph.pl drops frames narrower than --minwidth (pixels, or % of the total).
    minCount: (total) => {
      const timemax = widthFor(total);
      return o.minwidth.percent ? (timemax * o.minwidth.value) / 100 : o.minwidth.value / ((o.width - 2 * XPAD) / timemax);
    },
  });
  if (!(merged.total > 0)) {
    const where = merged.firstIgnored ? ` Line ${merged.firstIgnored.line} is not a folded stack: ${JSON.stringify(merged.firstIgnored.text)}.` : "";
    throw new UsageError(`No stack counts found: the input has no "stack count" lines with a count above zero.${where}`, {
      hint: "Give folded stacks (e.g. from 'kbook collapse'), one 'frame;frame;frame COUNT' a line.",
    });
  }
  const timemax = widthFor(merged.total);
  const widthPerTime = (o.width - 2 * XPAD) / timemax;
  const nodes = merged.nodes;
  let depthMax = 0;
  for (const node of nodes) if (node.depth > depthMax) depthMax = node.depth;

  const ypad1 = o.fontsize * 3;
  const ypad2 = o.fontsize * 2 + 10;
  const ypad3 = o.fontsize * 2;
  const hasSubtitle = o.subtitle !== "";
  const imageHeight = (depthMax + 1) * o.frameHeight + ypad1 + ypad2 + (hasSubtitle ? ypad3 : 0);
  const W = o.width;
  const id = o.id;
  const out: string[] = [];

  const prolog =
    `<?xml version="1.0" standalone="no"?>\n` +
    `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n`;
  out.push(
    `<svg version="1.1" id="${id}" class="kbook-flamegraph" width="${num(W)}" height="${num(imageHeight)}" viewBox="0 0 ${num(W)} ${num(imageHeight)}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" data-fontsize="${num(o.fontsize)}" data-fontwidth="${num(o.fontwidth)}" data-inverted="${o.inverted ? 1 : 0}">\n`,
    `<!-- Flame graph rendered by kbook (layout and numbers of FlameGraph's flamegraph.pl). -->\n`,
  );
  if (o.notes !== "") out.push(`<!-- NOTES: ${escapeComment(o.notes)} -->\n`);
  out.push(
    `<defs>\n\t<linearGradient id="${id}-background" y1="0" y2="1" x1="0" x2="0" >\n`,
    `\t\t<stop stop-color="${o.background[0]}" offset="5%" />\n\t\t<stop stop-color="${o.background[1]}" offset="95%" />\n`,
    `\t</linearGradient>\n</defs>\n`,
  );
  const style = assets()
    .style.replaceAll("#ID", `#${id}`)
    .replaceAll("FONTFAMILY", cssFont(o.fonttype))
    .replaceAll("TITLESIZE", num(o.fontsize + 5))
    .replaceAll("FONTSIZE", num(o.fontsize));
  // The document wraps the style in CDATA, as flamegraph.pl does; the HTML element cannot (an HTML
  // tokenizer, a sanitizer's included, reads "<![CDATA[" inside <style> as text), and need not:
  // the sheet has no "<" or "&" (cssFont keeps them out of the font name).
  const styleAt = out.length;
  out.push(`<style type="text/css"><![CDATA[\n${style}]]></style>\n`);
  out.push(`<rect x="0.0" y="0" width="${formatFixed(W, 1)}" height="${formatFixed(imageHeight, 1)}" fill="url(#${id}-background)" />\n`);
  const mid = formatFixed(Math.trunc(W / 2), 2);
  const detailsY = num(imageHeight - ypad2 / 2);
  out.push(`<text class="fg-title" x="${mid}" y="${num(o.fontsize * 2)}">${escapeXml(o.title)}</text>\n`);
  if (hasSubtitle) out.push(`<text class="fg-subtitle" x="${mid}" y="${num(o.fontsize * 4)}">${escapeXml(o.subtitle)}</text>\n`);
  out.push(`<text class="fg-details" x="${formatFixed(XPAD, 2)}" y="${detailsY}"> </text>\n`);
  if (o.interactive) {
    out.push(
      `<text class="fg-unzoom fg-hide" x="${formatFixed(XPAD, 2)}" y="${num(o.fontsize * 2)}">Reset Zoom</text>\n`,
      `<text class="fg-search" x="${formatFixed(W - XPAD - 100, 2)}" y="${num(o.fontsize * 2)}">Search</text>\n`,
      `<text class="fg-ic" x="${formatFixed(W - XPAD - 16, 2)}" y="${num(o.fontsize * 2)}">ic</text>\n`,
      `<text class="fg-matched" x="${formatFixed(W - XPAD - 100, 2)}" y="${detailsY}"> </text>\n`,
    );
  }

  out.push(`<g class="fg-frames">\n`);
  const topOffset = o.inverted && hasSubtitle ? ypad3 : 0;
  for (const node of nodes) {
    const end = node.name === "" && node.depth === 0 ? timemax : node.end;
    const x1 = XPAD + node.start * widthPerTime;
    const x2 = XPAD + end * widthPerTime;
    let y1: number;
    let y2: number;
    if (!o.inverted) {
      y1 = imageHeight - ypad2 - (node.depth + 1) * o.frameHeight + FRAMEPAD;
      y2 = imageHeight - ypad2 - node.depth * o.frameHeight;
    } else {
      y1 = topOffset + ypad1 + node.depth * o.frameHeight;
      y2 = topOffset + ypad1 + (node.depth + 1) * o.frameHeight - FRAMEPAD;
    }
    const info = frameInfo({ ...node, end }, timemax, o);
    let fill: string;
    if (node.name === "--") fill = "rgb(160,160,160)";
    else if (node.name === "-") fill = "rgb(200,200,200)";
    else if (node.delta !== undefined) fill = deltaColor(node.delta, merged.maxDelta, o.negate);
    else if (o.consistentPalette) {
      fill = o.consistentPalette.get(node.name) ?? frameColor(o.colors, o.colorMode, node.name);
      o.consistentPalette.set(node.name, fill);
    } else fill = frameColor(o.colors, o.colorMode, node.name);
    const rx1 = formatFixed(x1, 1);
    const rx2 = formatFixed(x2, 1);
    const rw = formatFixed(Number(rx2) - Number(rx1), 1);
    const label = frameLabel(node.name, x2 - x1, o.fontsize, o.fontwidth);
    out.push(
      `<g>\n<title>${escapeXml(info)}</title><rect x="${rx1}" y="${num(y1)}" width="${rw}" height="${formatFixed(y2 - y1, 1)}" fill="${fill}" rx="2" ry="2" />\n`,
      `<text x="${formatFixed(x1 + 3, 2)}" y="${num(3 + (y1 + y2) / 2)}">${escapeXml(label)}</text>\n</g>\n`,
    );
  }
  out.push(`</g>\n`);
  let script: string | undefined;
  if (o.interactive) {
    const config = JSON.stringify({
      id,
      nametype: o.nametype,
      xpad: XPAD,
      fontsize: o.fontsize,
      fontwidth: o.fontwidth,
      inverted: o.inverted,
      searchcolor: o.searchcolor,
    }).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    script = `${assets().script}(${config});`;
  }
  const head = out.slice(0, styleAt).join("");
  const drawing = out.slice(styleAt + 1).join("");
  return {
    svg: `${prolog}${head}${out[styleAt]}${drawing}${script ? `<script type="text/ecmascript"><![CDATA[\n${script}\n]]></script>\n` : ""}</svg>\n`,
    element: `${head}<style type="text/css">\n${style}</style>\n${drawing}</svg>`,
    script,
    frames: nodes.length,
    pruned: merged.pruned,
    total: merged.total,
    ignored: merged.ignored,
    firstIgnored: merged.firstIgnored,
  };
}

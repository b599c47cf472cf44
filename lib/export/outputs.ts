/**
 * A code cell's outputs as HTML. For display data the richest type the page can show wins:
 * Vega-Lite/Vega specs (drawn by vega-embed, their SVG kept as the no-script fallback), then
 * Jupyter's own order — HTML, SVG, PNG, JPEG, markdown, LaTeX (as text: no MathJax offline),
 * JSON, plain text. HTML and SVG go through the sanitizer unless the notebook is trusted.
 */
import { ansiToHtml } from "./ansi.js";
import { escapeHtml, escapeJsonForScript } from "../viz/escape.js";
import type { MarkdownRenderer } from "./markdown.js";
import { joinText, type DataOutput, type Output } from "./notebook.js";
import { sanitizeHtml, sanitizeSvg, type SanitizeOptions, type Sanitized } from "./sanitize/index.js";
import type { TrustPolicy } from "./trust.js";
import { findVegaSpec, renderFallbackSvg } from "./vega.js";

const DISPLAY_ORDER = [
  "text/html",
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "text/markdown",
  "text/latex",
  "application/json",
  "text/plain",
];

export interface OutputContext {
  policy: TrustPolicy;
  /** Markdown outputs are rendered like cells, but their headings stay out of the contents. */
  markdown: MarkdownRenderer;
  /** A new page-unique id for an output element. */
  nextId(): string;
  /** Set when an output needs the inlined vega runtime. */
  usesVega: boolean;
  /** Per-output notes (e.g. removed scripts), for the report the CLI prints. */
  notes: string[];
}

/** HTML for the outputs of one cell (consecutive stream chunks are merged, as Jupyter shows them). */
export async function renderOutputs(outputs: readonly Output[], context: OutputContext): Promise<string> {
  const parts: string[] = [];
  for (const output of mergeStreams(outputs)) parts.push(await renderOutput(output, context));
  return parts.join("\n");
}

function mergeStreams(outputs: readonly Output[]): Output[] {
  const merged: Output[] = [];
  for (const output of outputs) {
    const last = merged[merged.length - 1];
    if (output.output_type === "stream" && last?.output_type === "stream" && last.name === output.name) {
      merged[merged.length - 1] = { ...last, text: joinText(last.text) + joinText(output.text) };
    } else merged.push(output);
  }
  return merged;
}

async function renderOutput(output: Output, context: OutputContext): Promise<string> {
  const id = context.nextId();
  switch (output.output_type) {
    case "stream": {
      const name = output.name === "stderr" ? "stderr" : "stdout";
      return `<div class="output stream ${name}" id="${id}"><pre>${ansiToHtml(joinText(output.text))}</pre></div>`;
    }
    case "error": {
      const traceback = Array.isArray(output.traceback) && output.traceback.length
        ? output.traceback.map((line) => joinText(line)).join("\n")
        : `${joinText(output.ename)}: ${joinText(output.evalue)}`;
      return `<div class="output error" id="${id}"><pre>${ansiToHtml(traceback)}</pre></div>`;
    }
    case "display_data":
    case "execute_result":
      return renderData(output, id, context);
    default:
      return `<div class="output unknown" id="${id}"><pre>${escapeHtml(`(output of type ${String((output as { output_type: unknown }).output_type)} not shown)`)}</pre></div>`;
  }
}

async function renderData(output: DataOutput, id: string, context: OutputContext): Promise<string> {
  const bundle = output.data ?? {};
  const prompt =
    output.output_type === "execute_result" && typeof output.execution_count === "number"
      ? `<div class="prompt out">Out[${output.execution_count}]:</div>`
      : "";
  const wrap = (kind: string, mime: string, inner: string) =>
    `<div class="output ${kind}" id="${id}" data-mime="${escapeHtml(mime)}">${prompt}${inner}</div>`;

  const vega = findVegaSpec(bundle);
  if (vega) {
    const svg = typeof bundle["image/svg+xml"] !== "undefined" ? joinText(bundle["image/svg+xml"]) : await renderFallbackSvg(vega);
    const fallback = svg ? inlineSvg(svg, id, context) : `<pre>${escapeHtml(joinText(bundle["text/plain"]))}</pre>`;
    context.usesVega = true;
    return wrap(
      "vega",
      vega.mime,
      // The spec is found next to the chart, not by id: ids inside the fallback SVG are the output's.
      `<div class="kb-vega" data-mode="${vega.mode}">${fallback}</div>` +
        `<script type="application/json" class="kb-vega-spec">${escapeJsonForScript(JSON.stringify(vega.spec))}</script>`,
    );
  }

  const mime = DISPLAY_ORDER.find((type) => bundle[type] !== undefined && bundle[type] !== null);
  if (!mime) {
    const types = Object.keys(bundle).join(", ") || "none";
    return wrap("unknown", "", `<pre class="note">${escapeHtml(`(output with MIME types ${types}: nothing here can show it)`)}</pre>`);
  }
  const data = bundle[mime];
  switch (mime) {
    case "text/html":
      return wrap("html", mime, report(sanitizeHtml(joinText(data), sanitizeOptions(id, context.policy)), id, context));
    case "image/svg+xml":
      return wrap("svg", mime, inlineSvg(joinText(data), id, context));
    case "image/png":
    case "image/jpeg":
    case "image/gif":
    case "image/webp":
      return wrap("image", mime, imageTag(mime, joinText(data), output.metadata?.[mime]));
    case "text/markdown":
      return wrap("markdown", mime, context.markdown.render(joinText(data)));
    case "application/json":
      return wrap("json", mime, `<pre>${escapeHtml(JSON.stringify(data, null, 2))}</pre>`);
    default:
      return wrap("text", mime, `<pre>${ansiToHtml(joinText(data))}</pre>`);
  }
}

/** Sanitizer settings for the output (or raw cell) in the element with id `id`. */
export function sanitizeOptions(id: string, policy: TrustPolicy): SanitizeOptions {
  return { idPrefix: `${id}-`, containerSelector: `#${id}`, trusted: policy.trusted, keepScript: policy.keepScript, nonce: policy.nonce };
}

/**
 * An SVG placed in the page itself (not an <img>), so its own script — a flame graph's search
 * and zoom — runs. SVG that is not well-formed XML is shown as an image instead, where no script
 * can run.
 */
function inlineSvg(svg: string, id: string, context: OutputContext): string {
  try {
    return report(sanitizeSvg(svg, sanitizeOptions(id, context.policy)), id, context);
  } catch (error) {
    context.notes.push(`${id}: ${(error as Error).message} It is shown as an image, without interaction.`);
    return `<img alt="SVG output" src="data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}">`;
  }
}

function report(result: Sanitized, id: string, context: OutputContext): string {
  const scripts = result.removed.get("script");
  if (scripts) context.notes.push(`${id}: ${scripts} script(s) removed (untrusted output; --trust keeps them).`);
  return result.html;
}

function imageTag(mime: string, base64: string, metadata: unknown): string {
  const data = base64.replace(/\s/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) return `<pre class="note">(${escapeHtml(mime)} output is not valid base64)</pre>`;
  const size = typeof metadata === "object" && metadata !== null ? (metadata as Record<string, unknown>) : {};
  const dims = ["width", "height"]
    .filter((k) => typeof size[k] === "number" && Number.isFinite(size[k]))
    .map((k) => ` ${k}="${Math.round(size[k] as number)}"`)
    .join("");
  return `<img src="data:${mime};base64,${data}"${dims} alt="">`;
}

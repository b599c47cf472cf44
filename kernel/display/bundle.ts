/**
 * Turning a value into a MIME bundle (what a notebook output is). An object with a
 * `[Symbol.for("Jupyter.display")]()` method supplies its own bundle, synchronously or as a
 * promise (a Profile, a bpftrace result, a VM, a chart); anything else shows as text, the way
 * Node's REPL prints it. Binary image data becomes base64, as the notebook format stores it.
 */
import { inspect } from "node:util";
import { isDisplayable, JUPYTER_DISPLAY, type MimeBundle } from "../../lib/viz/mime.js";
import { UsageError } from "../../lib/errors/index.js";

export interface RenderedBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

const MIME_TYPE = /^[\w\-+.]+\/[\w\-+.]+$/;

export interface BundleOptions {
  raw?: boolean;
  metadata?: Record<string, unknown>;
}

/**
 * Synchronous unless the value's display method returns a promise, so that `display(a);
 * console.log(b)` keeps its order in the output.
 */
export function toMimeBundle(value: unknown, options: BundleOptions = {}): RenderedBundle | Promise<RenderedBundle> {
  if (options.raw) {
    if (typeof value !== "object" || value === null) throw new UsageError('display(value, { raw: true }) needs a MIME bundle object, e.g. { "text/html": "<b>hi</b>" }.');
    return finish(value as MimeBundle, value, options);
  }
  if (!isDisplayable(value)) return finish({ "text/plain": plainText(value) }, value, options);
  const bundle = value[JUPYTER_DISPLAY]() as MimeBundle | Promise<MimeBundle>;
  return isPromiseLike(bundle) ? Promise.resolve(bundle).then((b) => finish(b, value, options)) : finish(bundle, value, options);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}

function finish(bundle: MimeBundle, value: unknown, options: BundleOptions): RenderedBundle {
  if (typeof bundle !== "object" || bundle === null) throw new UsageError("A [Symbol.for(\"Jupyter.display\")]() method must return a MIME bundle object.");
  const data: Record<string, unknown> = {};
  for (const [type, content] of Object.entries(bundle)) {
    if (!MIME_TYPE.test(type)) throw new UsageError(`'${type}' is not a MIME type (expected type/subtype, e.g. text/html).`);
    if (content === undefined) continue;
    data[type] = encodeContent(type, content);
  }
  if (!("text/plain" in data) && !options.raw) data["text/plain"] = fallbackText(value);
  return { data, metadata: options.metadata ?? {} };
}

/** How the text/plain of an ordinary value reads: like Node's REPL, not too deep or long. */
export function plainText(value: unknown): string {
  return inspect(value, { depth: 4, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 });
}

function encodeContent(type: string, content: unknown): unknown {
  if (content instanceof Uint8Array) return Buffer.from(content).toString(type.startsWith("text/") || type.endsWith("+xml") ? "utf8" : "base64");
  if (type === "application/json" || type.endsWith("+json")) return content;
  return typeof content === "string" ? content : JSON.stringify(content);
}

function fallbackText(value: unknown): string {
  if (typeof value === "object" && value !== null) return `<${value.constructor?.name ?? "Object"}>`;
  return String(value);
}

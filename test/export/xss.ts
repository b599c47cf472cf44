/**
 * Checks that sanitised markup is inert, for the XSS corpus (testdata/xss-corpus.json) and for
 * bench/sanitize.ts, which runs the same checks on DOMPurify.
 *
 * Two independent judges:
 * - `findings`: the markup parsed by jsdom (parse5, the WHATWG HTML parser, as a browser parses
 *   it; linkedom's htmlparser2 is the tokenizer kbook itself uses, so it cannot see a parser
 *   differential) inside a page, then looked at: no script, no on* handler, no script-bearing
 *   URL, no srcdoc, no animation that targets href or a handler, no base/meta/frames/plugins,
 *   no executable CSS, nothing that escapes the element the output is placed in. Remote loads
 *   (CSS url(), <use>, <img src=https:>) are reported separately: a privacy leak, not script.
 * - `runInChromium`: every output placed in one real page (no CSP, so the sanitizer alone is
 *   judged), given time for animations, then every element hovered, focused and clicked, links
 *   and forms followed only when they would run script (so a javascript: URL really runs). A
 *   payload that runs calls `__xss(n)` or posts `xss:n` from a frame: the page records n.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { JSDOM, VirtualConsole } from "jsdom";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "./browser.js";

export interface Vector {
  id: string;
  n: number;
  source: string;
  context: "html" | "svg";
  category: string;
  payload: string;
  note?: string;
}

/** The package root: the nearest folder above this file with a package.json (this file also runs compiled, from dist/). */
function packageDir(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const CORPUS_FILE = join(packageDir(), "test", "export", "testdata", "xss-corpus.json");

export function loadCorpus(): Vector[] {
  return (JSON.parse(readFileSync(CORPUS_FILE, "utf8")) as { vectors: Vector[] }).vectors;
}

export const CHROMIUM = "/usr/bin/chromium";

/** Attributes whose value the browser may load or navigate to. */
const URL_ATTRIBUTES = new Set(
  "href xlink:href src action formaction data poster background srcset lowsrc dynsrc codebase cite ping xml:base longdesc usemap manifest icon".split(" "),
);
/** Elements that must never reach the page. */
const FORBIDDEN_ELEMENTS = new Set("base iframe frame frameset object embed applet portal link handler noscript".split(" "));
/** CSS that runs script (old IE/Gecko) or reaches outside the output. */
const EXECUTABLE_CSS = /expression\s*\(|javascript:|vbscript:|-moz-binding|behavior\s*:/i;
const REMOTE_CSS = /@import|url\s*\(\s*["']?\s*(?!#|data:image\/)[^)\s]/i;
const EXECUTABLE_URL = /^(?:javascript:|vbscript:|data:(?!image\/(?:png|jpeg|gif|webp|svg\+xml)[;,]))/i;
const REMOTE_URL = /^(?:[a-z][a-z0-9+.-]*:)?\/\//i;

/** Control characters and whitespace a URL parser strips or skips. */
const compact = (value: string) => value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");

export interface Finding {
  kind: "script" | "handler" | "url" | "srcdoc" | "animation" | "element" | "css" | "escape" | "remote";
  detail: string;
}

/** Kinds that mean script could run (as opposed to a remote load). */
export const EXECUTION_KINDS = new Set<Finding["kind"]>(["script", "handler", "url", "srcdoc", "animation", "element", "css", "escape"]);

/**
 * What is unsafe in `html` once it is placed in a page as an output's content. `allowScript`
 * says which scripts are kbook's own (kept on purpose); data blocks (application/json) are inert.
 */
export function findings(html: string, allowScript: (source: string) => boolean = () => false): Finding[] {
  // jsdom's CSS parser complains about sheets it cannot read (kbook's nested ones); that is not a finding.
  const dom = new JSDOM(`<!DOCTYPE html><html><head></head><body><div id="kb-output">${html}</div><p id="kb-after">after</p></body></html>`, {
    virtualConsole: new VirtualConsole(),
  });
  const { document } = dom.window;
  const found: Finding[] = [];
  const add = (kind: Finding["kind"], detail: string) => found.push({ kind, detail: detail.slice(0, 160) });
  const body = document.body;
  const children = [...body.children].map((c) => c.id);
  if (children.join(",") !== "kb-output,kb-after" || document.head.children.length) add("escape", `the output left its element: body has ${children.join(",")}`);
  for (const element of document.querySelectorAll("*")) {
    const name = element.localName.toLowerCase();
    if (name === "script") {
      const type = (element.getAttribute("type") ?? "").trim().toLowerCase();
      if (type !== "application/json" && !allowScript(element.textContent ?? "")) add("script", element.outerHTML);
    }
    if (FORBIDDEN_ELEMENTS.has(name)) add("element", `<${name}>`);
    if (name === "meta" && element.hasAttribute("http-equiv")) add("element", "<meta http-equiv>");
    if (name === "animate" || name === "set" || name === "animatemotion" || name === "animatetransform" || name === "discard") {
      const target = (element.getAttribute("attributeName") ?? element.getAttribute("attributename") ?? "").toLowerCase();
      if (/href|^on/.test(target)) add("animation", element.outerHTML);
    }
    if (name === "style" && EXECUTABLE_CSS.test(element.textContent ?? "")) add("css", element.outerHTML);
    if (name === "style" && REMOTE_CSS.test(element.textContent ?? "")) add("remote", element.outerHTML);
    for (const attribute of element.attributes) {
      const attr = attribute.name.toLowerCase();
      const value = attribute.value;
      if (attr.startsWith("on")) add("handler", `${attr}=${value}`);
      if (attr === "srcdoc") add("srcdoc", value);
      if (attr === "style" && EXECUTABLE_CSS.test(value)) add("css", `style=${value}`);
      else if (attr === "style" || /\burl\s*\(/i.test(value)) {
        if (REMOTE_CSS.test(value)) add("remote", `${attr}=${value}`);
      }
      if (URL_ATTRIBUTES.has(attr)) {
        const url = compact(value);
        if (EXECUTABLE_URL.test(url) || (attr === "srcset" && /javascript:/i.test(url))) add("url", `<${name} ${attr}=${value}>`);
        else if (REMOTE_URL.test(url) && name !== "a" && name !== "area" && attr !== "action" && attr !== "formaction") add("remote", `<${name} ${attr}=${value}>`);
      }
      if ((attr === "values" || attr === "to" || attr === "from" || attr === "by") && /javascript:/i.test(compact(value))) add("animation", `${attr}=${value}`);
    }
  }
  dom.window.close();
  return found;
}

export interface ChromiumRun {
  /** The n of every payload that ran. */
  ran: Set<number>;
  /** URLs other than the page and data: the page asked for (all aborted). */
  requests: string[];
  /** True when every output stayed inside its element. */
  contained: boolean;
  /** Script errors on the page (a sign that a payload got as far as the parser). */
  errors: string[];
}

/** Installed in every document of the run: the trap payloads call, and the link/form guard. */
const HARNESS = `<script>
(function(){
var top_ = window.top;
if (window === top_) { window.__ran = []; window.addEventListener("message", function (e) { var m = /^xss:(\\d+)$/.exec(String(e.data)); if (m) window.__ran.push(+m[1]); }); }
window.__xss = function (n) { top_.__ran.push(n); };
function url(el) { var h = el.href; if (h && typeof h === "object") h = h.animVal; try { return new URL(h, document.baseURI).protocol; } catch (e) { return String(h).trim().slice(0, 11).toLowerCase(); } }
// Follow a link or a form only when following it would run script: anything else would leave the page.
document.addEventListener("click", function (e) {
  var a = e.target && e.target.closest && e.target.closest("a, area");
  if (a && url(a) !== "javascript:") e.preventDefault();
}, true);
document.addEventListener("submit", function (e) {
  var action = (e.submitter && e.submitter.formAction) || e.target.action || "";
  if (!/^\\s*javascript:/i.test(action)) e.preventDefault();
}, true);
})();
</script>`;

/** Hovers, focuses and clicks every element of the document it runs in. */
function interact(): void {
  const events = ["pointerover", "pointerenter", "mouseover", "mouseenter", "mousemove", "pointerdown", "mousedown", "pointerup", "mouseup", "click", "dblclick", "mouseout", "mouseleave"];
  for (const element of Array.from(document.body ? document.body.querySelectorAll("*") : [])) {
    if (element.localName === "script") continue;
    try {
      (element as HTMLElement).focus?.();
      (element as HTMLElement).blur?.();
    } catch {}
    for (const type of events) {
      try {
        element.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, view: window }));
      } catch {}
    }
  }
}

const escapeAttribute = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/**
 * Loads `outputs` in headless Chromium in one page and reports which payloads ran. "inline"
 * places them in the page as the export does (each in its own element); "framed" gives each its
 * own document (a srcdoc frame), for unsanitised controls that would otherwise break each other.
 */
export async function runInChromium(outputs: { n: number; html: string }[], mode: "inline" | "framed" = "inline"): Promise<ChromiumRun> {
  const body =
    mode === "inline"
      ? outputs.map((o) => `<div class="kb-output" id="o${o.n}">${o.html}</div>`).join("\n")
      : outputs.map((o) => `<iframe class="kb-output" id="o${o.n}" width="300" height="150" srcdoc="${escapeAttribute(`<!DOCTYPE html><html><head>${HARNESS}</head><body>${o.html}</body></html>`)}"></iframe>`).join("\n");
  const page = `<!DOCTYPE html><html><head><meta charset="utf-8">${HARNESS}</head><body>\n${body}\n<p id="kb-end">end</p></body></html>`;
  const dir = await mkdtemp(join(tmpdir(), "kbook-xss-"));
  const file = join(dir, "corpus.html");
  await writeFile(file, page);
  const pageUrl = pathToFileURL(file).href;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url === pageUrl || url.startsWith("data:") || url.startsWith("about:")) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const tab = await context.newPage();
    tab.on("pageerror", (e) => errors.push(e.message));
    tab.on("dialog", (d) => void d.dismiss());
    await tab.goto(pageUrl, { waitUntil: "load" });
    // SMIL animations start at load; give them (and autofocus, toggles, image errors) time.
    await tab.waitForTimeout(1000);
    for (const frame of tab.frames()) await frame.evaluate(interact).catch(() => undefined);
    await tab.mouse.move(5, 5);
    await tab.mouse.move(600, 450, { steps: 5 });
    await tab.waitForTimeout(500);
    const ran = new Set<number>(await tab.evaluate(() => (window as unknown as { __ran: number[] }).__ran));
    const contained =
      mode === "framed" ||
      (await tab.evaluate((count) => {
        const children = Array.from(document.body.children);
        return children.length === count + 1 && children.every((c, i) => (i < count ? c.classList.contains("kb-output") : c.id === "kb-end"));
      }, outputs.length));
    return { ran, requests, contained, errors };
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

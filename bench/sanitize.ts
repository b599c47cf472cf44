/**
 * kbook's hand-written output sanitizer (lib/export/sanitize/) against DOMPurify on jsdom, the
 * figures behind the decision in lib/export/sanitize/index.ts. Run: `npm run build && node
 * dist/bench/sanitize.js` (or `npx vite-node bench/sanitize.ts`); needs /usr/bin/chromium for the
 * browser columns.
 *
 *  1. The XSS corpus (test/export/testdata/xss-corpus.json), through kbook, DOMPurify as it comes,
 *     and DOMPurify with kbook's rules as hooks (bench/sanitize-dompurify.ts, the adoption
 *     candidate): vectors a spec HTML parser still finds executable or loading remotely, and
 *     payloads that really run in headless Chromium.
 *  2. kbook's real outputs (flame graphs with kbook's script, the Vega-Lite static SVG, bpftrace
 *     displays, tables, the searchable list): elements and text kept, kbook's script kept, ids
 *     confined, and whether the flame graph still zooms in Chromium.
 *  3. Speed (ms per MB) on those outputs, a 50k-frame flame graph among them, and the cost of
 *     loading each sanitizer into a fresh process.
 *  4. Size of each approach's dependencies on disk.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { JSDOM, VirtualConsole } from "jsdom";
import { chromium } from "playwright-core";
import { parseBpftraceJson } from "../lib/bpftrace/index.js";
import { renderFlameGraph, renderFlameGraphDetailed } from "../lib/flamegraph/index.js";
import { sanitizeHtml, sanitizeSvg, type Sanitized, type SanitizeOptions } from "../lib/export/sanitize/index.js";
import { trustPolicy } from "../lib/export/trust.js";
import { packageRoot } from "../lib/paths.js";
import { renderHtmlTable } from "../lib/viz/html.js";
import { renderSearchableList } from "../lib/viz/searchable.js";
import { vegaLiteBundle } from "../lib/viz/vegalite.js";
import { CHROMIUM_ARGS } from "../test/export/browser.js";
import { CHROMIUM, EXECUTION_KINDS, findings, loadCorpus, runInChromium } from "../test/export/xss.js";
import * as candidate from "./sanitize-dompurify.js";
import { syntheticFolded } from "./synthetic.js";

type Context = "html" | "svg";
interface Sanitizer {
  name: string;
  run(markup: string, context: Context, options: SanitizeOptions): string;
}

/** As outputs.ts does: SVG that is not XML is shown as an image. */
const asImage = (svg: string) => `<img alt="SVG output" src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}">`;
function withFallback(html: (m: string, o: SanitizeOptions) => Sanitized, svg: (m: string, o: SanitizeOptions) => Sanitized): Sanitizer["run"] {
  return (markup, context, options) => {
    if (context === "html") return html(markup, options).html;
    try {
      return svg(markup, options).html;
    } catch {
      return asImage(markup);
    }
  };
}

const SANITIZERS: Sanitizer[] = [
  { name: "kbook (hand-written)", run: withFallback(sanitizeHtml, sanitizeSvg) },
  { name: "DOMPurify 3 defaults", run: (markup) => candidate.dompurifyDefault(markup) },
  { name: "DOMPurify 3 + kbook hooks", run: withFallback(candidate.sanitizeHtml, candidate.sanitizeSvg) },
];

const policy = trustPolicy();
const optionsFor = (n: number): SanitizeOptions => ({ idPrefix: `o${n}-`, containerSelector: `#o${n}`, keepScript: policy.keepScript });
const hasChromium = existsSync(CHROMIUM);

function table(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

// ---------------------------------------------------------------- 1. corpus

async function corpusFigures(): Promise<void> {
  const corpus = loadCorpus();
  const rows: (string | number)[][] = [];
  const failures: string[] = [];
  if (hasChromium) {
    const control = await runInChromium(corpus.map((v) => ({ n: v.n, html: v.payload })), "framed");
    console.log(`Control: ${control.ran.size} of ${corpus.length} payloads run in Chromium when not sanitised; ${control.requests.length} remote requests.\n`);
  }
  for (const sanitizer of SANITIZERS) {
    const outputs = corpus.map((v) => ({ v, html: sanitizer.run(v.payload, v.context, optionsFor(v.n)) }));
    const executable: string[] = [];
    const remote: string[] = [];
    for (const { v, html } of outputs) {
      const found = findings(html, policy.keepScript);
      if (found.some((f) => EXECUTION_KINDS.has(f.kind))) executable.push(`${v.id} (${found.filter((f) => EXECUTION_KINDS.has(f.kind)).map((f) => `${f.kind}: ${f.detail}`).join("; ")})`);
      if (found.some((f) => f.kind === "remote")) remote.push(v.id);
    }
    let ran = "–";
    let requests = "–";
    let contained = "–";
    if (hasChromium) {
      const run = await runInChromium(outputs.map(({ v, html }) => ({ n: v.n, html })));
      ran = String(run.ran.size);
      requests = String(run.requests.length);
      contained = run.contained ? "yes" : "no";
      for (const n of run.ran) failures.push(`${sanitizer.name}: RAN in Chromium: ${corpus.find((v) => v.n === n)!.id}`);
    }
    rows.push([sanitizer.name, `${corpus.length - executable.length}/${corpus.length}`, remote.length, ran, requests, contained]);
    for (const e of executable) failures.push(`${sanitizer.name}: static: ${e}`);
    if (remote.length) failures.push(`${sanitizer.name}: remote loads kept: ${remote.join(", ")}`);
  }
  console.log("## XSS corpus\n");
  console.log(table(["sanitizer", "neutralised (static, jsdom)", "remote loads kept", "payloads run (Chromium)", "remote requests (Chromium)", "outputs stay in their element"], rows));
  console.log(failures.length ? `\n${failures.map((f) => `- ${f}`).join("\n")}\n` : "\n");
}

// ---------------------------------------------------------------- 2. real outputs


const BPFTRACE_JSON = [
  '{"type": "attached_probes", "data": {"probes": 2}}',
  '{"type": "hist", "data": {"@bytes": [{"min": 0, "max": 0, "count": 3}, {"min": 1, "max": 1, "count": 1}, {"min": 2, "max": 3, "count": 9}, {"min": 4, "max": 7, "count": 40}, {"min": 8, "max": 15, "count": 12}, {"min": 1024, "max": 2047, "count": 2}]}}',
  '{"type": "stats", "data": {"@lat": {"dd": {"count": 49, "average": 1200, "total": 58800}, "<script>alert(1)</script>": {"count": 2, "average": 10, "total": 20}}}}',
  '{"type": "map", "data": {"@": {"\\n    task_tick_fair+1\\n    scheduler_tick+52\\n    update_process_times+73\\n": 42, "\\n    vfs_write+5\\n    ksys_write+99\\n": 7}}}',
].join("\n");

interface RealOutput {
  name: string;
  context: Context;
  markup: string;
}

async function realOutputs(): Promise<{ outputs: RealOutput[]; big: RealOutput }> {
  const testdata = join(packageRoot(), "test", "export", "testdata");
  const chart = await vegaLiteBundle(
    {
      data: { values: [{ frame: "task_tick_fair", count: 42 }, { frame: "update_curr", count: 17 }, { frame: "<b>bold?</b>", count: 5 }] },
      mark: "bar",
      encoding: { x: { field: "frame", type: "nominal", sort: "-y" }, y: { field: "count", type: "quantitative" }, tooltip: [{ field: "frame" }, { field: "count" }] },
    },
    "chart",
  );
  const outputs: RealOutput[] = [
    { name: "flame graph (dd, with kbook's script)", context: "svg", markup: renderFlameGraph(readFileSync(join(testdata, "dd.folded"), "utf8"), { title: "dd" }) },
    { name: "flame graph (tick)", context: "svg", markup: renderFlameGraph(readFileSync(join(testdata, "tick.folded"), "utf8"), { title: "tick" }) },
    { name: "Vega-Lite static SVG", context: "svg", markup: String(chart["image/svg+xml"]) },
    { name: "bpftrace display (hist, stats, kstack)", context: "html", markup: parseBpftraceJson(BPFTRACE_JSON).html() },
    { name: "kbook table", context: "html", markup: renderHtmlTable([{ label: "frame" }, { label: "count", align: "right" }], [["task_tick_fair", 42], ["<script>alert(1)</script>", 1]], { caption: "kstack counts" }) },
    { name: "searchable list (bpftrace -l)", context: "html", markup: renderSearchableList(Array.from({ length: 300 }, (_, i) => `kprobe:func_${i}`), { title: "probes" }) },
  ];
  const graph = renderFlameGraphDetailed(syntheticFolded(50_000), { minwidth: 0, title: "50k frames" });
  return { outputs, big: { name: `flame graph, ${graph.frames} frames`, context: "svg", markup: graph.svg } };
}

interface Shape {
  elements: Map<string, number>;
  text: string;
  scripts: number;
  styles: number;
  ids: string[];
}

/** What a person sees of markup placed in a page: elements by name (scripts apart), text, ids. */
function shape(markup: string, context: Context): Shape {
  // An SVG document's prolog and DOCTYPE mean nothing inline; drop them like both sanitizers do.
  const body = context === "svg" ? markup.replace(/^(?:\s*<\?xml[^>]*>|\s*<!DOCTYPE[^>]*>|\s*<!--[\s\S]*?-->)*/, "") : markup;
  const dom = new JSDOM(`<!DOCTYPE html><body>${body}</body>`, { virtualConsole: new VirtualConsole() });
  const document = dom.window.document;
  const elements = new Map<string, number>();
  let scripts = 0;
  let styles = 0;
  const ids: string[] = [];
  for (const element of document.body.querySelectorAll("*")) {
    const name = element.localName;
    if (name === "script" && element.getAttribute("type") !== "application/json") scripts++;
    else if (name === "style") styles++;
    else elements.set(name, (elements.get(name) ?? 0) + 1);
    if (element.id) ids.push(element.id);
  }
  for (const element of document.body.querySelectorAll("script, style")) element.remove();
  const text = (document.body.textContent ?? "").replace(/\s+/g, " ").trim();
  dom.window.close();
  return { elements, text, scripts, styles, ids };
}

function kept(before: Map<string, number>, after: Map<string, number>): [number, number] {
  let total = 0;
  let same = 0;
  for (const [name, count] of before) {
    total += count;
    same += Math.min(count, after.get(name) ?? 0);
  }
  return [same, total];
}

/** Clicks a frame of the sanitised flame graph in Chromium; true when the graph zoomed. */
async function flameGraphZooms(html: string): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), "kbook-bench-fg-"));
  const file = join(dir, "fg.html");
  await writeFile(file, `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><div id="o1">${html}</div></body></html>`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    const frame = page.locator("svg.kbook-flamegraph .fg-frames > g", { has: page.locator('title:text-matches("^vfs_write \\\\(")') }).locator("rect").first();
    if (!(await frame.count())) return false;
    const before = Number(await frame.getAttribute("width"));
    await frame.click();
    const after = Number(await frame.getAttribute("width"));
    return after > before * 1.5;
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function outputFigures(outputs: RealOutput[]): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const output of outputs) {
    const before = shape(output.markup, output.context);
    for (const sanitizer of SANITIZERS) {
      const html = sanitizer.run(output.markup, output.context, optionsFor(1));
      const after = shape(html, "html");
      const [same, total] = kept(before.elements, after.elements);
      const zooms = output.name.startsWith("flame graph (dd") && hasChromium ? ((await flameGraphZooms(html)) ? "zooms" : "static") : "";
      rows.push([
        output.name,
        sanitizer.name,
        `${same}/${total}${same === total ? "" : ` (lost: ${[...before.elements].filter(([n, c]) => (after.elements.get(n) ?? 0) < c).map(([n]) => n).join(", ")})`}`,
        after.text === before.text ? "yes" : "no",
        before.scripts ? `${after.scripts}/${before.scripts}${zooms ? `, ${zooms}` : ""}` : "–",
        before.styles ? `${after.styles}/${before.styles}` : "–",
        after.ids.every((id) => id.startsWith("o1-")) ? "yes" : `no (${after.ids.filter((id) => !id.startsWith("o1-")).length})`,
        `${((100 * Buffer.byteLength(html)) / Buffer.byteLength(output.markup)).toFixed(0)}%`,
      ]);
    }
  }
  console.log("## kbook's real outputs\n");
  console.log(table(["output", "sanitizer", "elements kept", "text kept", "scripts kept", "styles kept", "ids confined", "size"], rows));
  console.log();
}

// ---------------------------------------------------------------- 3. speed

function timeIt(run: () => void, budgetMs = 4000): number {
  const times: number[] = [];
  const started = performance.now();
  do {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  } while (times.length < 5 && performance.now() - started < budgetMs);
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/**
 * The big flame graph, once per sanitizer, each in a child process of its own with node's default
 * heap, so one sanitizer's garbage does not count against the next and running out of memory is
 * a result rather than the end of the bench.
 */
function bigGraphInChild(index: number): string[] {
  try {
    // This file again: compiled (dist/bench/sanitize.js) or as TypeScript under vite-node.
    const self = fileURLToPath(import.meta.url);
    const command = self.endsWith(".ts") ? [join(packageRoot(), "node_modules", ".bin", "vite-node"), self] : [self];
    const out = execFileSync(process.execPath, command, {
      env: { ...process.env, KBOOK_SANITIZE_BENCH_CHILD: String(index) },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const { ms, mb, rss } = JSON.parse(out.trim().split("\n").pop()!) as { ms: number; mb: number; rss: number };
    return [ms.toFixed(0), (ms / mb).toFixed(0), `${rss.toFixed(0)} MB`];
  } catch {
    return ["failed (out of memory?)", "–", "–"];
  }
}

async function child(index: number): Promise<void> {
  const { big } = await realOutputs();
  const sanitizer = SANITIZERS[index]!;
  const started = performance.now();
  sanitizer.run(big.markup, big.context, optionsFor(1));
  const ms = performance.now() - started;
  console.log(JSON.stringify({ ms, mb: Buffer.byteLength(big.markup) / 1e6, rss: process.resourceUsage().maxRSS / 1024 }));
}

function speedFigures(outputs: RealOutput[], big: RealOutput): void {
  const rows: (string | number)[][] = [];
  const bigMb = Buffer.byteLength(big.markup) / 1e6;
  SANITIZERS.forEach((sanitizer, i) => rows.push([`${big.name} (${bigMb.toFixed(2)} MB), cold, own process`, sanitizer.name, ...bigGraphInChild(i)]));
  for (const output of outputs.filter((o) => o.name.startsWith("flame graph (dd") || o.name.startsWith("Vega") || o.name.startsWith("bpftrace"))) {
    const mb = Buffer.byteLength(output.markup) / 1e6;
    for (const sanitizer of SANITIZERS) {
      sanitizer.run(output.markup, output.context, optionsFor(1)); // warm up
      const ms = timeIt(() => sanitizer.run(output.markup, output.context, optionsFor(1)));
      rows.push([`${output.name} (${mb.toFixed(3)} MB), warm median`, sanitizer.name, ms.toFixed(1), (ms / mb).toFixed(0), ""]);
    }
  }
  console.log("## Speed\n");
  console.log(table(["output", "sanitizer", "ms", "ms per MB", "peak RSS"], rows));
  console.log();

  // Loading each into a fresh node process (what `kbook export` pays once).
  const root = packageRoot();
  const load = (code: string) => {
    const script = `const t=performance.now();${code};process.stdout.write(String(performance.now()-t))`;
    const runs = Array.from({ length: 3 }, () => Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" })));
    return [...runs].sort((a, b) => a - b)[1]!.toFixed(0);
  };
  console.log(
    table(
      ["load in a fresh process", "ms"],
      [
        ["htmlparser2 (kbook's HTML tokenizer)", load('await import("htmlparser2")')],
        ["jsdom + DOMPurify + a window", load('const {JSDOM}=await import("jsdom");const p=(await import("dompurify")).default;p(new JSDOM("").window)')],
      ],
    ),
  );
  console.log();
}

// ---------------------------------------------------------------- 4. dependency size

/** A package and everything it depends on, as installed under node_modules. */
function closure(name: string, seen = new Map<string, string>()): Map<string, string> {
  if (seen.has(name)) return seen;
  const dir = join(packageRoot(), "node_modules", name);
  if (!existsSync(join(dir, "package.json"))) return seen;
  seen.set(name, dir);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies ?? {})) closure(dep, seen);
  return seen;
}

function diskSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += entry.name === "node_modules" ? 0 : diskSize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

function dependencyFigures(): void {
  const rows = [
    ["kbook: htmlparser2 (already a dependency)", ["htmlparser2"]],
    ["DOMPurify", ["dompurify"]],
    ["DOMPurify + jsdom (Node has no DOM)", ["dompurify", "jsdom"]],
  ].map(([label, names]) => {
    const all = new Map<string, string>();
    for (const name of names as string[]) closure(name, all);
    const bytes = [...all.values()].reduce((sum, dir) => sum + diskSize(dir), 0);
    return [label as string, all.size, `${(bytes / 1e6).toFixed(1)} MB`];
  });
  console.log("## Dependencies\n");
  console.log(table(["approach", "packages", "on disk"], rows));
  console.log();
}

async function main(): Promise<void> {
  const childIndex = process.env.KBOOK_SANITIZE_BENCH_CHILD;
  if (childIndex !== undefined) return child(Number(childIndex));
  const { outputs, big } = await realOutputs();
  // Wall times on this shared 2-core machine depend on what else runs.
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} (2 cores)\n`);
  await corpusFigures();
  await outputFigures(outputs);
  speedFigures(outputs, big);
  dependencyFigures();
}

await main();

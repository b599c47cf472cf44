/**
 * Front ends in a real browser: JupyterLab 4's rendering code (and an imitation of VS Code's
 * renderer, see page.ts) bundled by esbuild from node_modules into a temporary folder, loaded from
 * file:// in Debian's headless Chromium (test/export/browser.ts). Nothing is committed or cached:
 * the bundle is built again by every test file that uses it (about a second).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import type { Page } from "playwright-core";
import { openInChromium, type OpenedPage } from "../export/browser.js";

export const CHROMIUM = "/usr/bin/chromium";

/** An nbformat output as a kernel sends it (display_data). */
export interface DisplayOutput {
  output_type: "display_data";
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export function displayOutput(bundle: Record<string, unknown>): DisplayOutput {
  return { output_type: "display_data", data: bundle, metadata: {} };
}

export interface Frontends extends OpenedPage {
  /** Shows outputs in a JupyterLab output area (trusted or not); the label names its <section>. */
  jupyterlab(label: string, outputs: readonly unknown[], options: { trusted: boolean }): Promise<void>;
  /** Replaces an area's outputs, as re-running the cell does. */
  rerun(label: string, outputs: readonly unknown[]): Promise<void>;
  /** Shows outputs as VS Code's built-in renderer does. */
  vscode(label: string, outputs: readonly unknown[]): Promise<void>;
  /** The selector of a labelled section. */
  at(label: string): string;
  /** Console warnings (vega reports spec problems there). */
  warnings: string[];
}

async function bundle(dir: string): Promise<void> {
  await build({
    entryPoints: [join(import.meta.dirname, "page.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "chrome120",
    outfile: join(dir, "page.js"),
    define: { "process.env.NODE_ENV": '"production"' },
    // JupyterLab's icons are SVG text imported into JavaScript (raw-loader in its own webpack build).
    loader: { ".svg": "text" },
    logLevel: "error",
  });
  await writeFile(join(dir, "index.html"), '<!doctype html><html><head><meta charset="utf-8"><title>kbook front ends</title></head><body><script src="page.js"></script></body></html>\n');
}

export async function openFrontends(): Promise<Frontends> {
  const dir = await mkdtemp(join(tmpdir(), "kbook-frontends-"));
  try {
    await bundle(dir);
    const opened = await openInChromium(`file://${join(dir, "index.html")}`);
    const warnings: string[] = [];
    opened.page.on("console", (message) => {
      if (message.type() === "warning") warnings.push(message.text());
    });
    const call = (page: Page, method: "jupyterlab" | "rerun" | "vscode", ...args: unknown[]) =>
      page.evaluate(({ method, args }) => (window as unknown as { kbookHarness: Record<string, (...a: unknown[]) => void> }).kbookHarness[method]!(...args), { method, args });
    return {
      ...opened,
      warnings,
      jupyterlab: (label, outputs, options) => call(opened.page, "jupyterlab", label, outputs, options.trusted),
      rerun: (label, outputs) => call(opened.page, "rerun", label, outputs),
      vscode: (label, outputs) => call(opened.page, "vscode", label, outputs),
      at: (label) => `section[data-label="${label}"]`,
      async close() {
        await opened.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The frame called `name` in the `index`-th flame graph under `scope` (a CSS selector). */
export function flameFrame(page: Page, scope: string, index: number, name: string) {
  const title = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(`);
  return page.locator(`${scope} svg.kbook-flamegraph`).nth(index).locator(".fg-frames > g").filter({ has: page.locator("title", { hasText: title }) }).first();
}

/** Per flame graph under `scope`: set up by its script, and its details and matched texts. */
export function flameGraphStates(page: Page, scope: string) {
  return page.evaluate(
    (scope) =>
      [...document.querySelectorAll(`${scope} svg.kbook-flamegraph`)].map((svg) => ({
        ready: Boolean((svg as unknown as { kbookFlameGraph?: object }).kbookFlameGraph),
        details: svg.querySelector(".fg-details")?.textContent?.trim() ?? "",
        matched: svg.querySelector(".fg-matched")?.textContent?.trim() ?? "",
        shown: (svg as unknown as HTMLElement).getBoundingClientRect().width > 0,
      })),
    scope,
  );
}

/** The text a reader sees under `scope` (innerText: hidden parts left out). */
export function visibleText(page: Page, scope: string): Promise<string> {
  return page.locator(scope).evaluate((element) => (element as HTMLElement).innerText);
}

/** Markup that must never be shown as text: the sign of an output that degraded into its source. */
export const MARKUP_AS_TEXT = /<svg|<rect|<text|<title|<div|<table|<style|<script type|kbook-rich|fg-frames|\(function \(cfg\)|&lt;|&amp;|Cannot display an untrusted/;

/**
 * Real headless Chromium for the export tests: Debian's /usr/bin/chromium driven by
 * playwright-core, with a fresh profile per launch and everything that phones home switched off,
 * so any request the page makes is the page's own doing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-gpu",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export interface OpenedPage {
  page: Page;
  /** Console errors, page errors and failed loads, as text. */
  errors: string[];
  /** Every URL the page asked for. */
  requests: string[];
  /** Dialogs (alert/confirm/prompt) the page opened: an alert means a script ran that should not. */
  dialogs: string[];
  /** Answers for the page's next prompt() calls (the flame graph asks for its search term). */
  promptAnswers: string[];
  close(): Promise<void>;
}

export async function openInChromium(url: string, options: { javaScriptEnabled?: boolean } = {}): Promise<OpenedPage> {
  const profile = await mkdtemp(join(tmpdir(), "kbook-chromium-"));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
      javaScriptEnabled: options.javaScriptEnabled ?? true,
      viewport: { width: 1400, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    const requests: string[] = [];
    const dialogs: string[] = [];
    const promptAnswers: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
    page.on("requestfailed", (request) => errors.push(`requestfailed: ${request.url()}`));
    page.on("request", (request) => requests.push(request.url()));
    page.on("dialog", (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      const answer = dialog.type() === "prompt" ? promptAnswers.shift() : undefined;
      void (answer === undefined ? dialog.dismiss() : dialog.accept(answer));
    });
    await page.goto(url, { waitUntil: "load" });
    const opened = context;
    return {
      page,
      errors,
      requests,
      dialogs,
      promptAnswers,
      async close() {
        await opened.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

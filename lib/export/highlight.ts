/**
 * Syntax highlighting of code cells and markdown code fences with highlight.js. Only the
 * languages a kbook notebook holds are registered: loading all of highlight.js costs ~0.5 s,
 * the core and these ~30 ms. Unknown languages are escaped, not guessed (auto-detection is slow
 * and often wrong on short cells).
 */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import diff from "highlight.js/lib/languages/diff";
import ini from "highlight.js/lib/languages/ini";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import makefile from "highlight.js/lib/languages/makefile";
import markdown from "highlight.js/lib/languages/markdown";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import shell from "highlight.js/lib/languages/shell";
import typescript from "highlight.js/lib/languages/typescript";
import x86asm from "highlight.js/lib/languages/x86asm";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { escapeHtml } from "../viz/escape.js";

const LANGUAGES = { bash, c, cpp, diff, ini, javascript, json, makefile, markdown, plaintext, python, shell, typescript, x86asm, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
// bpftrace's syntax is C with awk-like probes; C highlighting reads well on it.
hljs.registerAliases(["bpftrace", "bt"], { languageName: "c" });
hljs.registerAliases(["sh", "console"], { languageName: "bash" });

/** kbook's cell magics and the language their body is written in. */
const MAGIC_LANGUAGES: Record<string, string> = {
  bpftrace: "bpftrace",
  sh: "bash",
  host: "bash",
  bash: "bash",
  perf: "bash",
  gdb: "plaintext",
  js: "javascript",
  javascript: "javascript",
};

/** Highlighted HTML for `code` (escaped in every case); `language` may be any alias or empty. */
export function highlightCode(code: string, language: string | undefined): string {
  const name = language?.trim().toLowerCase();
  if (name && hljs.getLanguage(name)) {
    return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
  }
  return escapeHtml(code);
}

/**
 * Highlights a code cell. A first line `%%magic args` switches the cell's language (the body of a
 * `%%bpftrace` cell is bpftrace, not TypeScript); the magic line itself is shown as a meta line.
 */
export function highlightCell(source: string, notebookLanguage: string | undefined): string {
  const magic = /^%%([\w-]+)([^\n]*)(\n|$)/.exec(source);
  if (!magic) return highlightCode(source, notebookLanguage);
  const body = source.slice(magic[0].length);
  const language = MAGIC_LANGUAGES[magic[1]!] ?? "plaintext";
  const line = `<span class="hljs-meta">${escapeHtml(magic[0].replace(/\n$/, ""))}</span>${magic[3]}`;
  return line + highlightCode(body, language);
}

/** True when `language` names a registered language or alias. */
export function isKnownLanguage(language: string): boolean {
  return Boolean(hljs.getLanguage(language.toLowerCase()));
}

/**
 * Which scripts in a notebook's outputs may run in the exported page.
 *
 * Jupyter's rule is that output HTML and SVG from a notebook you did not execute yourself is
 * untrusted: it is shown sanitised, without scripts, until you `jupyter trust` it. kbook export
 * follows it, with one refinement so that kbook's own interactive outputs keep working in an
 * untrusted notebook: a script is kept when its text is exactly a script kbook ships (the flame
 * graph's search/zoom code, read from assets/ at export time), optionally applied to one JSON
 * value — `SCRIPT(CONFIG);`, which is how the flame graph passes its settings. JSON evaluated as
 * JavaScript is a literal and runs nothing, so the notebook supplies only data (frames, names,
 * numbers, all escaped, and that configuration), never code. `--trust` is the equivalent of
 * `jupyter trust`: the user vouches for the notebook and every output is kept as it is.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { assetPath } from "../paths.js";

export interface TrustPolicy {
  /** Keep outputs exactly as they are (scripts, event handlers, any markup). */
  trusted: boolean;
  /** For untrusted outputs: is this script one of kbook's own? */
  keepScript(source: string): boolean;
  /**
   * The page's Content-Security-Policy nonce: only scripts carrying it run, so markup that got
   * past everything else still could not execute (set by the page, copied onto kept scripts).
   */
  nonce?: string;
}

let shippedScripts: Set<string> | undefined;

/**
 * Concerns whose outputs embed a script from their assets/ folder. The convention that makes such
 * a script survive export: ship it as assets/<concern>/NAME.js, embed it verbatim (or as
 * `SCRIPT(JSON);`), and let it find its element from `document.currentScript`, not by id (ids
 * are prefixed per output in the exported page).
 */
const OUTPUT_SCRIPT_CONCERNS = ["flamegraph", "viz"];

/** The texts of the scripts kbook embeds in its outputs. */
export function kbookOutputScripts(): Set<string> {
  if (shippedScripts) return shippedScripts;
  shippedScripts = new Set();
  for (const concern of OUTPUT_SCRIPT_CONCERNS) {
    let files: string[] = [];
    try {
      files = readdirSync(assetPath(concern)).filter((f) => f.endsWith(".js"));
    } catch {
      continue;
    }
    for (const file of files) shippedScripts.add(normalizeScript(readFileSync(join(assetPath(concern), file), "utf8")));
  }
  return shippedScripts;
}

/** Outer whitespace does not change what a script does; embedders often add a newline. */
function normalizeScript(source: string): string {
  return source.trim();
}

/** True when `source` is `script` alone, or `script(JSON);` (a call with one JSON value). */
export function isShippedScript(source: string, shipped: Iterable<string>): boolean {
  const text = normalizeScript(source);
  for (const script of shipped) {
    if (!text.startsWith(script)) continue;
    const rest = text.slice(script.length).trim();
    if (rest === "") return true;
    const call = /^\(([\s\S]*)\);?$/.exec(rest);
    if (!call || !/^\s*[{[]/.test(call[1]!)) continue;
    try {
      JSON.parse(call[1]!);
      return true;
    } catch {
      continue;
    }
  }
  return false;
}

/** The policy for an export: `trusted` from `--trust`. */
export function trustPolicy(options: { trusted?: boolean } = {}): TrustPolicy {
  const known = kbookOutputScripts();
  return {
    trusted: Boolean(options.trusted),
    keepScript: (source) => isShippedScript(source, known),
  };
}

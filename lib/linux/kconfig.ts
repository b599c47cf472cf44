/**
 * Kernel configuration text, parsed and checked: `.config` files and fragments (the same
 * format: `CONFIG_X=value` and `# CONFIG_X is not set`), `--set` words, the merge kbook does
 * before `make olddefconfig`, and the comparison that finds what olddefconfig dropped. Pure
 * functions over strings; `kconfigSymbols` reads the tree's Kconfig files to say whether a
 * symbol exists and what it depends on.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors/index.js";

/** One requested value: "y", "m", "n" (not set), or a string/number as written (quotes kept). */
export type ConfigValue = string;

/** An option as a fragment names it, with where it came from (for messages). */
export interface ConfigRequest {
  symbol: string;
  value: ConfigValue;
  /** "learn.config:12", "--set", "my.config:3". */
  origin: string;
}

/** `CONFIG_X=value` → ["X", "value"]; `# CONFIG_X is not set` → ["X", "n"]. */
const ASSIGN = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;

/**
 * Parses fragment (or .config) text. Blank lines and `#` comments are skipped; anything else
 * that is not an assignment is an error naming the file and line, never silently ignored.
 */
export function parseConfigFragment(text: string, name: string): ConfigRequest[] {
  const requests: ConfigRequest[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    const origin = `${name}:${index + 1}`;
    if (!line) return;
    const unset = UNSET.exec(line);
    if (unset) {
      requests.push({ symbol: unset[1]!, value: "n", origin });
      return;
    }
    if (line.startsWith("#")) return;
    const assign = ASSIGN.exec(line);
    if (!assign || !validValue(assign[2]!)) {
      throw new UsageError(`${origin}: '${raw.trim()}' is not a kernel config line.`, {
        hint: 'Write CONFIG_NAME=y, CONFIG_NAME=m, CONFIG_NAME=123, CONFIG_NAME="text" or "# CONFIG_NAME is not set".',
      });
    }
    requests.push({ symbol: assign[1]!, value: assign[2]!, origin });
  });
  return requests;
}

function validValue(value: string): boolean {
  return /^(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/.test(value);
}

/** `--set CONFIG_X=y` (the CONFIG_ prefix optional) → a request. */
export function parseConfigSet(word: string): ConfigRequest {
  const m = /^(?:CONFIG_)?([A-Za-z0-9_]+)=(.*)$/.exec(word.trim());
  if (!m || !validValue(m[2]!)) {
    throw new UsageError(`--set ${word}: expected CONFIG_NAME=y|n|m|VALUE.`, { hint: "For example --set CONFIG_DEBUG_INFO_BTF=y or --set LOG_BUF_SHIFT=18." });
  }
  return { symbol: m[1]!, value: m[2]!, origin: "--set" };
}

/** A parsed .config: symbol → value ("n" for `is not set`). Order kept. */
export function parseDotConfig(text: string): Map<string, ConfigValue> {
  const values = new Map<string, ConfigValue>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const unset = UNSET.exec(line);
    if (unset) values.set(unset[1]!, "n");
    const assign = ASSIGN.exec(line);
    if (assign) values.set(assign[1]!, assign[2]!);
  }
  return values;
}

/** The value a .config gives a symbol: absent symbols are "n", as Kconfig reads them. */
export function configValue(config: Map<string, ConfigValue>, symbol: string): ConfigValue {
  return config.get(symbol) ?? "n";
}

/**
 * Merges requests into .config text the way scripts/kconfig/merge_config.sh does: the old line
 * for each symbol is removed and the new one appended, so a choice member set later wins.
 */
export function mergeConfig(base: string, requests: readonly ConfigRequest[]): string {
  const symbols = new Set(requests.map((r) => r.symbol));
  const kept = base.split("\n").filter((raw) => {
    const line = raw.trim();
    const m = ASSIGN.exec(line) ?? UNSET.exec(line);
    return !(m && symbols.has(m[1]!));
  });
  while (kept.length && kept.at(-1) === "") kept.pop();
  // Each request moves its symbol to the end, as merge_config.sh's remove-and-append does.
  const last = new Map<string, ConfigRequest>();
  for (const r of requests) {
    last.delete(r.symbol);
    last.set(r.symbol, r);
  }
  const appended = [...last.values()].map((r) => (r.value === "n" ? `# CONFIG_${r.symbol} is not set` : `CONFIG_${r.symbol}=${r.value}`));
  return [...kept, ...appended, ""].join("\n");
}

/** A symbol as Kconfig declares it: where, and the `depends on` expressions of its entries. */
export interface KconfigSymbol {
  symbol: string;
  file: string;
  line: number;
  dependsOn: string[];
}

/**
 * The Kconfig symbols of a tree (every `config`/`menuconfig` entry under the tree, other
 * architectures left out), with their `depends on` lines. Enough to tell a misspelt option from
 * one whose dependencies are off; an `if` block around an entry is not followed.
 */
export function kconfigSymbols(sourceDir: string, arch = "x86"): Map<string, KconfigSymbol> {
  const symbols = new Map<string, KconfigSymbol>();
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name.startsWith(".") || (rel === "arch" && entry.name !== arch) || (rel === "" && ["Documentation", "tools", "samples"].includes(entry.name))) continue;
        walk(join(dir, entry.name), relPath);
      } else if (entry.isFile() && entry.name.startsWith("Kconfig")) {
        parseKconfigFile(readFileSync(join(dir, entry.name), "utf8"), relPath, symbols);
      }
    }
  };
  walk(sourceDir, "");
  return symbols;
}

/** Adds the entries of one Kconfig file to `symbols`. Pure over its text. */
export function parseKconfigFile(text: string, file: string, symbols: Map<string, KconfigSymbol>): void {
  let current: KconfigSymbol | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + " " + lines[++i]!;
    const entry = /^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$/.exec(line);
    if (entry) {
      const symbol = entry[1]!;
      current = symbols.get(symbol) ?? { symbol, file, line: i + 1, dependsOn: [] };
      symbols.set(symbol, current);
      continue;
    }
    if (/^\s*(choice|endchoice|menu|endmenu|if|endif|source|comment|mainmenu)\b/.test(line)) {
      current = undefined;
      continue;
    }
    const depends = /^\s*depends\s+on\s+(.+?)\s*(#.*)?$/.exec(line);
    if (depends && current) current.dependsOn.push(depends[1]!);
  }
}

/**
 * The symbols an expression needs on (`A && (B || C) && !D` → A, B, C): a negated symbol is met
 * by being off, so it is left out.
 */
export function expressionSymbols(expression: string): string[] {
  const positive = expression.replace(/!\s*[A-Za-z0-9_]+/g, "");
  return [...new Set(positive.match(/\b[A-Z0-9][A-Z0-9_]*\b/g) ?? [])].filter((s) => !/^\d+$/.test(s));
}

/** What happened to one requested option in the final .config. */
export interface ConfigOutcome {
  request: ConfigRequest;
  /** The value it ended with ("n" when absent). */
  actual: ConfigValue;
  /** "unknown": no Kconfig entry declares it; "dropped": declared, but olddefconfig changed it. */
  problem: "unknown" | "dropped";
  /** For a dropped option: the symbols of its `depends on` lines that are off in the final config. */
  unmet: string[];
  /** A sentence for the user. */
  message: string;
}

function sameValue(wanted: ConfigValue, actual: ConfigValue): boolean {
  if (wanted === actual) return true;
  const number = (v: string) => (/^(-?\d+|0x[0-9a-fA-F]+)$/.test(v) ? Number(v) : NaN);
  return !Number.isNaN(number(wanted)) && number(wanted) === number(actual);
}

/** Compares requests with the final config: every request that did not hold, explained. */
export function checkRequests(
  requests: readonly ConfigRequest[],
  final: Map<string, ConfigValue>,
  /** Called only when some request did not hold (reading Kconfig files takes a moment). */
  kconfig: () => Map<string, KconfigSymbol>,
  closest: (name: string, candidates: readonly string[]) => string[],
): ConfigOutcome[] {
  const last = new Map(requests.map((r) => [r.symbol, r]));
  const outcomes: ConfigOutcome[] = [];
  let symbols: Map<string, KconfigSymbol> | undefined;
  for (const request of last.values()) {
    const actual = configValue(final, request.symbol);
    if (sameValue(request.value, actual)) continue;
    symbols ??= kconfig();
    const declared = symbols.get(request.symbol);
    if (!declared) {
      const near = closest(request.symbol, [...symbols.keys()]).slice(0, 3);
      outcomes.push({
        request,
        actual,
        problem: "unknown",
        unmet: [],
        message: `CONFIG_${request.symbol} (${request.origin}) is not an option of this kernel${near.length ? `; did you mean ${near.map((n) => `CONFIG_${n}`).join(", ")}?` : "."}`,
      });
      continue;
    }
    const unmet = declared.dependsOn.flatMap(expressionSymbols).filter((s) => configValue(final, s) === "n");
    const because = unmet.length
      ? `it depends on ${[...new Set(unmet)].map((s) => `CONFIG_${s}`).join(", ")}, which ${unmet.length > 1 ? "are" : "is"} not set`
      : `its dependencies are not met (see ${declared.file}:${declared.line})`;
    outcomes.push({
      request,
      actual,
      problem: "dropped",
      unmet: [...new Set(unmet)],
      message: `CONFIG_${request.symbol}=${request.value} (${request.origin}) was dropped by olddefconfig (now ${actual === "n" ? "not set" : actual}): ${because}.`,
    });
  }
  return outcomes;
}

/** The differences of `config` from `base`: options added, removed or changed, sorted by name. */
export function diffConfigs(base: Map<string, ConfigValue>, config: Map<string, ConfigValue>): { symbol: string; from: ConfigValue; to: ConfigValue }[] {
  const names = [...new Set([...base.keys(), ...config.keys()])].sort();
  return names
    .map((symbol) => ({ symbol, from: configValue(base, symbol), to: configValue(config, symbol) }))
    .filter((d) => d.from !== d.to);
}

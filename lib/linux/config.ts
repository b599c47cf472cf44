/**
 * The configuration of a kernel build: a preset (`learn`, kbook's default; `defconfig`;
 * `debian`; or a .config file), the user's fragments and `--set` options merged over it, then
 * `make olddefconfig`. Every requested option is checked in the result: one that does not exist
 * is an error (with the closest real names), one that olddefconfig dropped is a warning naming
 * the dependency that is off — never silent.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { closestNames } from "../bpftrace/diagnostics.js";
import { assetPath } from "../paths.js";
import { runTool } from "../system/run.js";
import { UsageError } from "../errors/index.js";
import type { ProgressReporter } from "../progress/index.js";
import { checkRequests, diffConfigs, kconfigSymbols, mergeConfig, parseConfigFragment, parseConfigSet, parseDotConfig, type ConfigOutcome, type ConfigRequest, type ConfigValue } from "./kconfig.js";
import { linuxCacheDir, type LinuxSource } from "./source.js";

/** Where Debian's linux-config-<series> package keeps the distribution kernel's config. */
const DEBIAN_CONFIG = "/usr/src/linux-config-6.1/config.amd64_none_amd64.xz";

export type ConfigPreset = "learn" | "defconfig" | "debian";

export interface LinuxConfigOptions {
  /** "learn" (default), "defconfig", "debian", or the path of a .config file. */
  config?: ConfigPreset | string;
  /** Fragment files merged over the preset, in order. */
  fragments?: string[];
  /** Single options, e.g. "CONFIG_DEBUG_INFO_BTF=y"; applied last. */
  set?: string[];
}

/** What a configuration is made from, read and checked, before anything runs. */
export interface ConfigInputs {
  /** "learn", "defconfig", "debian" or "file". */
  preset: string;
  /** A short name for the build: the preset, or the config file's name. */
  name: string;
  /** make targets that make the base config, or the text of a base .config. */
  base: { targets: string[] } | { text: string; origin: string };
  /** The preset's own fragment (learn), then the user's fragments and --set, in order. */
  requests: ConfigRequest[];
  /** Only the user's requests (fragments and --set). */
  userRequests: ConfigRequest[];
  /** Hash of all of the above: same inputs, same config on the same tree. */
  hash: string;
}

export interface EffectiveConfig {
  text: string;
  values: Map<string, ConfigValue>;
  sha256: string;
  /** Requested options olddefconfig dropped, explained. */
  dropped: ConfigOutcome[];
}

/** Reads and checks the config inputs: files exist, fragments parse, --set words are well formed. */
export async function resolveConfigInputs(options: LinuxConfigOptions = {}): Promise<ConfigInputs> {
  const choice = options.config ?? "learn";
  let preset: string;
  let name: string;
  let base: ConfigInputs["base"];
  const requests: ConfigRequest[] = [];
  if (choice === "learn") {
    preset = name = "learn";
    base = { targets: ["tinyconfig"] };
    requests.push(...parseConfigFragment(await readFile(assetPath("linux", "learn.config"), "utf8"), "learn.config"));
  } else if (choice === "defconfig") {
    preset = name = "defconfig";
    base = { targets: ["defconfig", "kvm_guest.config"] };
  } else if (choice === "debian") {
    preset = name = "debian";
    if (!existsSync(DEBIAN_CONFIG)) {
      throw new UsageError(`Debian's kernel config is not installed (${DEBIAN_CONFIG}).`, { hint: "apt-get install linux-config-6.1 (a Debian config builds thousands of modules: expect an hour or more on two cores)." });
    }
    base = { text: (await runTool("xz", ["-dc", DEBIAN_CONFIG])).stdout, origin: DEBIAN_CONFIG };
  } else {
    const path = resolve(choice);
    const text = await readFile(path, "utf8").catch(() => {
      throw new UsageError(`--config ${choice}: no such file, and not a preset.`, { hint: "Use learn (default), defconfig, debian, or the path of a .config file." });
    });
    parseConfigFragment(text, choice); // a .config must parse like a fragment
    preset = "file";
    name = basename(path).replace(/^\.|\.config$/g, "") || "config";
    base = { text, origin: path };
  }
  const userRequests: ConfigRequest[] = [];
  for (const fragment of options.fragments ?? []) {
    const text = await readFile(resolve(fragment), "utf8").catch(() => {
      throw new UsageError(`Fragment ${fragment} does not exist or is not readable.`);
    });
    userRequests.push(...parseConfigFragment(text, fragment));
  }
  for (const word of options.set ?? []) userRequests.push(parseConfigSet(word));
  requests.push(...userRequests);
  return { preset, name, base, requests, userRequests, hash: inputsHash(preset, base, requests) };
}

function inputsHash(preset: string, base: ConfigInputs["base"], requests: readonly ConfigRequest[]): string {
  return createHash("sha256").update(JSON.stringify({ preset, base, requests: requests.map((r) => [r.symbol, r.value]) })).digest("hex").slice(0, 16);
}

/** The preset alone: its base and its own fragment, without the user's fragments and --set. */
function presetInputs(inputs: ConfigInputs): ConfigInputs {
  const requests = inputs.requests.filter((r) => !inputs.userRequests.includes(r));
  return { ...inputs, requests, userRequests: [], hash: inputsHash(inputs.preset, inputs.base, requests) };
}

function makeArgs(source: LinuxSource, outDir: string, targets: string[]): string[] {
  return ["-s", "-C", source.dir, `O=${outDir}`, "ARCH=x86_64", ...targets];
}

/** Runs the config step in a scratch build directory; returns the final .config text. */
async function makeConfigText(source: LinuxSource, inputs: ConfigInputs, scratch: string, signal?: AbortSignal): Promise<string> {
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const stage = "making the kernel configuration";
  if ("targets" in inputs.base) {
    await runTool("make", makeArgs(source, scratch, inputs.base.targets), { stage, signal });
  } else {
    await writeFile(join(scratch, ".config"), inputs.base.text);
  }
  const merged = mergeConfig(await readFile(join(scratch, ".config"), "utf8"), inputs.requests);
  await writeFile(join(scratch, ".config"), merged);
  await runTool("make", makeArgs(source, scratch, ["olddefconfig"]), { stage, signal });
  return readFile(join(scratch, ".config"), "utf8");
}

/**
 * The effective config for these inputs on this tree, made once and cached by (inputs, the
 * tree's Kconfig files): a rebuild after editing a .c file does not make it again.
 */
export async function effectiveConfig(source: LinuxSource, inputs: ConfigInputs, kconfigStamp: string, progress: ProgressReporter, signal?: AbortSignal): Promise<EffectiveConfig> {
  const dir = join(linuxCacheDir(), "configs");
  const cached = join(dir, `${source.id}-${inputs.hash}-${kconfigStamp}.config`);
  const fresh = !existsSync(cached);
  let text: string;
  if (fresh) {
    progress.report("config", `${inputs.name}: make ${"targets" in inputs.base ? inputs.base.targets.join(" ") : "from a .config"}, merge, olddefconfig`);
    const scratch = join(dir, `.scratch-${process.pid}`);
    try {
      text = await makeConfigText(source, inputs, scratch, signal);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  } else {
    text = await readFile(cached, "utf8");
  }
  const values = parseDotConfig(text);
  // One check (and at most one read of the Kconfig files): an unknown name is refused before
  // the config is cached, so a cached config has only dropped options left to report.
  const outcomes = checkRequests(inputs.requests, values, () => kconfigSymbols(source.dir), closestNames);
  const unknown = outcomes.filter((o) => o.problem === "unknown");
  if (unknown.length) {
    throw new UsageError(unknown.map((o) => o.message).join("\n"), { hint: "Check the option's name in the kernel's Kconfig files (make menuconfig shows them, '/' searches)." });
  }
  if (fresh) {
    await mkdir(dir, { recursive: true });
    await writeFile(`${cached}.${process.pid}.tmp`, text);
    await rename(`${cached}.${process.pid}.tmp`, cached);
  }
  return { text, values, sha256: createHash("sha256").update(text).digest("hex"), dropped: outcomes };
}

/**
 * `kbook linux config`: the effective config's differences from the preset alone, and the
 * requested options that did not hold.
 */
export async function explainConfig(source: LinuxSource, inputs: ConfigInputs, kconfigStamp: string, progress: ProgressReporter, signal?: AbortSignal) {
  const effective = await effectiveConfig(source, inputs, kconfigStamp, progress, signal);
  const presetOnly = await effectiveConfig(source, presetInputs(inputs), kconfigStamp, progress, signal);
  return { effective, differences: diffConfigs(presetOnly.values, effective.values) };
}

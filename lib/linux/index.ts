/**
 * Your own kernel: built from Debian's linux-source package or your tree with a configuration
 * made for reading it (DWARF, BTF, gdb scripts, ftrace, kprobes), cached, and ready to boot on
 * kbook's images and debug at source level.
 */
export { buildLinux, checkLinuxToolchain, LinuxBuildError, type LinuxBuildOptions } from "./build.js";
export { resolveConfigInputs, effectiveConfig, explainConfig, type LinuxConfigOptions, type ConfigPreset, type ConfigInputs, type EffectiveConfig } from "./config.js";
export { resolveLinuxSource, debianSource, checkUserTree, resetWorkingCopy, treeStamp, type LinuxSource } from "./source.js";
export { listLinuxBuilds, resolveLinuxBuild, readLinuxBuildDir, removeLinuxBuild, kernelsDir, type LinuxBuild, type LinuxManifest } from "./store.js";
export { missingRequirements, KERNEL_REQUIREMENTS, type KernelRequirement } from "./requirements.js";
export { applyPatch } from "./patch.js";
export { parseConfigFragment, parseDotConfig, mergeConfig, checkRequests, diffConfigs, type ConfigRequest, type ConfigOutcome } from "./kconfig.js";

/**
 * Folded stacks → flame graphs: flamegraph.pl's rendering, palettes and differential graphs,
 * and difffolded.pl, in TypeScript.
 */
export { FoldedStacks, parseFolded, parseFoldedLine, splitFrames, formatCount, type FoldedLine } from "./folded.js";
export { mergeFolded, type FrameNode, type MergedFrames, type MergeOptions } from "./merge.js";
export { renderFlameGraph, renderFlameGraphDetailed, frameInfo, frameLabel, type FlameGraphResult } from "./render.js";
export { flameGraphHtml, type FlameGraphSummary } from "./html.js";
export { topFunctions, type TopFunction, type TopFunctionsOptions } from "./top.js";
export { resolveFlameGraphOptions, type FlameGraphOptions, type ResolvedFlameGraphOptions } from "./options.js";
export { PALETTES, frameColor, deltaColor, nameHash, nameSeededRandom, parsePaletteFile, formatPaletteFile, type PaletteName } from "./palette.js";
export { diffFolded, type DiffFoldedOptions, type DiffFoldedResult } from "./difffolded.js";

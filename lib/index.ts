/**
 * kbook's public API: `import { bootVm, buildImage, renderFlameGraph } from "kbook"`.
 * Each concern lives in its own folder under lib/ and is re-exported here.
 */
export * from "./errors/index.js";
export * from "./progress/index.js";
export type * from "./vm/guest.js";

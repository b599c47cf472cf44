/**
 * TypeScript, loaded with require(): importing its 9 MB CommonJS file from ESM makes Node scan
 * all of it for export names first (cjs-module-lexer), which costs about a second at start.
 */
import { createRequire } from "node:module";
import type * as TS from "typescript";

export const ts = createRequire(import.meta.url)("typescript") as typeof TS;

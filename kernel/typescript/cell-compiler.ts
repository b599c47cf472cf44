/**
 * Type checks and compiles cells with the project's TypeScript (a LanguageService over one
 * virtual file). The checked file is
 *
 *   <declarations of earlier cells, minus names this cell declares again>
 *   <the cell>
 *   export { <names the cell declares> };      ← so declaration emit describes them
 *
 * named `__kbook_cell__.mts` in the notebook's directory: `.mts` makes it an ES module whatever
 * package.json says, so top-level await type checks and imports resolve with Node's ESM rules.
 *
 * Bare imports resolve first from kbook's own package (kbook itself, vega, Plot…), then from the
 * notebook's directory: the same order the runtime uses (runtime.ts), so what type checks loads.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import type * as TS from "typescript";
import { ts } from "./typescript.js";
import { describeCell, parseCell, parseDiagnosticsOf } from "./cell-source.js";
import { DeclarationContext, declarationsFromEmit, type DeclarationUpdate } from "./declarations.js";
import { scriptTransformer } from "./emit-transform.js";

export interface CellDiagnostic {
  /** 1-based line and column within the cell. */
  line: number;
  column: number;
  code: number;
  message: string;
}

export interface CompiledCell {
  /** Script text for V8's REPL mode (without a sourceURL; the runtime adds it). */
  script: string;
  /** Source map `mappings` of `script`, and the checked file's line where the cell starts. */
  mappings: string;
  firstCellLine: number;
  /** The cell's value is its last expression. */
  endsWithExpression: boolean;
  /** Pass to `commit` once the cell ran, so later cells see its declarations. */
  commitId: number;
}

export type CompileOutcome = { ok: true; cell: CompiledCell } | { ok: false; diagnostics: CellDiagnostic[] };

export interface CompletionResult {
  matches: string[];
  /** UTF-16 offsets in the cell of the text the matches replace. */
  start: number;
  end: number;
  kinds: string[];
}

export interface CellCompilerOptions {
  /** The notebook's directory (relative imports, node_modules of the user's project). */
  cwd: string;
  /** kbook's package root (where its package.json and node_modules are). */
  packageRoot: string;
  /** Global declarations for cells: display(), clearOutput()… */
  globalsFile: string;
}

export class CellCompiler {
  readonly context = new DeclarationContext();
  private readonly cellFile: string;
  private readonly anchorFile: string;
  private readonly options: TS.CompilerOptions;
  private readonly service: TS.LanguageService;
  private readonly resolutionCache: TS.ModuleResolutionCache;
  private text = "export {};\n";
  private version = 0;
  private nextCommit = 1;
  private readonly pending = new Map<number, DeclarationUpdate>();
  private readonly fsAnswers = new Map<string, unknown>();
  private readonly snapshots = new Map<string, { version: string; snapshot: TS.IScriptSnapshot | undefined }>();

  constructor(private readonly config: CellCompilerOptions) {
    this.cellFile = join(config.cwd, "__kbook_cell__.mts");
    // Bare specifiers are resolved as if imported by the kernel's own code, inside kbook's package.
    this.anchorFile = join(config.packageRoot, "dist", "kernel", "__kbook_cell__.mts");
    this.options = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2023.d.ts"],
      types: ["node"],
      typeRoots: [join(config.packageRoot, "node_modules", "@types")],
      strict: true,
      skipLibCheck: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      declaration: true,
      sourceMap: true,
      newLine: ts.NewLineKind.LineFeed,
    };
    this.resolutionCache = ts.createModuleResolutionCache(config.cwd, (f) => f, this.options);
    this.service = ts.createLanguageService(this.host(), ts.createDocumentRegistry());
  }

  /** Builds the first program (parses lib and @types/node: the slow part, ~1 s) ahead of use. */
  warm(): void {
    this.service.getProgram();
  }

  compile(code: string): CompileOutcome {
    const source = parseCell(code);
    // Syntax errors are taken from the cell alone: in the checked file an unclosed brace would
    // swallow the export list behind the cell, and the error would land outside the cell.
    const syntaxErrors = parseDiagnosticsOf(source);
    if (syntaxErrors.length) return { ok: false, diagnostics: syntaxErrors.map((d) => toCellDiagnostic(d, source, 0)) };
    const shape = describeCell(source);
    if (shape.exportAt !== undefined) {
      const { line, character } = source.getLineAndCharacterOfPosition(shape.exportAt);
      return {
        ok: false,
        diagnostics: [{ line: line + 1, column: character + 1, code: 0, message: "Cells do not export: every top-level declaration is already visible to later cells. Remove 'export'." }],
      };
    }
    const prefix = this.context.render(shape.names);
    const tail = `\nexport { ${shape.names.join(", ")} };\n`;
    this.update(prefix + code + tail);
    const program = this.service.getProgram()!;
    const file = program.getSourceFile(this.cellFile)!;
    const region = { start: prefix.length, end: prefix.length + code.length };
    const firstCellLine = file.getLineAndCharacterOfPosition(prefix.length).line;
    const errors = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]
      .filter((d) => d.category === ts.DiagnosticCategory.Error)
      .filter((d) => d.start === undefined || (d.start >= region.start && d.start <= region.end));
    if (errors.length) return { ok: false, diagnostics: errors.map((d) => toCellDiagnostic(d, file, firstCellLine)) };

    let script = "";
    let mappings = "";
    let dts = "";
    program.emit(
      file,
      (name, data) => {
        if (name.endsWith(".mjs")) script = data;
        else if (name.endsWith(".mjs.map")) mappings = (JSON.parse(data) as { mappings: string }).mappings;
        else if (name.endsWith(".d.mts")) dts = data;
      },
      undefined,
      false,
      { after: [scriptTransformer(region)] },
    );
    const commitId = this.nextCommit++;
    this.pending.set(commitId, declarationsFromEmit(dts, shape));
    return {
      ok: true,
      cell: {
        script: script.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n"),
        mappings,
        firstCellLine,
        endsWithExpression: shape.endsWithExpression,
        commitId,
      },
    };
  }

  /** Makes a compiled cell's declarations visible to later cells (after it ran, even if it threw). */
  commit(commitId: number): void {
    const update = this.pending.get(commitId);
    this.pending.clear();
    if (update) this.context.apply(update);
  }

  complete(code: string, position: number): CompletionResult {
    const offset = this.withContext(code);
    let start = position;
    while (start > 0 && /[\p{ID_Continue}$\u200c\u200d]/u.test(code[start - 1]!)) start--;
    const prefix = code.slice(start, position);
    const info = this.service.getCompletionsAtPosition(this.cellFile, offset + position, {
      includeCompletionsForModuleExports: false,
      includeCompletionsWithInsertText: true,
    });
    const entries = (info?.entries ?? [])
      .filter((e) => e.name.startsWith(prefix))
      .sort((a, b) => a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name))
      .slice(0, 500);
    return { matches: entries.map((e) => e.name), kinds: entries.map((e) => e.kind), start, end: position };
  }

  /** Type and documentation of the name at (or just before) `position`, as plain text and markdown. */
  inspect(code: string, position: number): { plain: string; markdown: string } | undefined {
    const offset = this.withContext(code);
    const info =
      this.service.getQuickInfoAtPosition(this.cellFile, offset + position) ??
      (position > 0 ? this.service.getQuickInfoAtPosition(this.cellFile, offset + position - 1) : undefined);
    if (!info) return undefined;
    const signature = ts.displayPartsToString(info.displayParts);
    const docs = ts.displayPartsToString(info.documentation);
    const tags = (info.tags ?? []).map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`.trim());
    const plain = [signature, docs, ...tags].filter(Boolean).join("\n\n");
    const markdown = ["```typescript\n" + signature + "\n```", docs, ...tags.map((t) => `*${t}*`)].filter(Boolean).join("\n\n");
    return { plain, markdown };
  }

  /** Declares a variable the kernel bound (a magic's `_` or `--out NAME`) for later cells. */
  declareVariable(name: string, typeText: string): void {
    this.context.declareVariable(name, typeText);
  }

  /** Puts `code` behind the declaration context for a completion or inspection; returns its offset. */
  private withContext(code: string): number {
    const prefix = this.context.render(describeCell(parseCell(code)).names);
    this.update(prefix + code + "\nexport {};\n");
    return prefix.length;
  }

  private update(text: string): void {
    // File system answers are remembered while one program is built (a new file the user writes
    // between cells is seen by the next cell): the service asks about the same package.json
    // files once per source file, a hundred times per cell otherwise.
    this.fsAnswers.clear();
    if (text === this.text) return;
    this.text = text;
    this.version++;
  }

  /**
   * Files the user may edit between cells (their own modules) are versioned by mtime. Packages
   * and kbook's own built API never change while the kernel runs (its modules are loaded once).
   */
  private fileVersion(file: string): string {
    const root = this.config.packageRoot;
    if (file.includes("/node_modules/") || file.startsWith(join(root, "dist") + "/") || file.startsWith(join(root, "assets") + "/")) return "0";
    try {
      return String(statSync(file).mtimeMs);
    } catch {
      return "missing";
    }
  }

  private remembered<T>(kind: string, path: string, answer: () => T): T {
    const key = `${kind}\0${path}`;
    if (this.fsAnswers.has(key)) return this.fsAnswers.get(key) as T;
    const value = answer();
    this.fsAnswers.set(key, value);
    return value;
  }

  private host(): TS.LanguageServiceHost {
    const sys = ts.sys;
    // getModuleResolutionCache is read by the language service though not in its public host type.
    const host: TS.LanguageServiceHost & { getModuleResolutionCache(): TS.ModuleResolutionCache } = {
      getScriptFileNames: () => [this.config.globalsFile, this.cellFile],
      getScriptVersion: (f) => (f === this.cellFile ? String(this.version) : this.remembered("version", f, () => this.fileVersion(f))),
      getScriptSnapshot: (f) => {
        if (f === this.cellFile) return ts.ScriptSnapshot.fromString(this.text);
        // The service asks for every file's snapshot for every new program (each cell): reading
        // lib and @types files again each time would dominate a trivial cell's check.
        const version = this.remembered("version", f, () => this.fileVersion(f));
        const cached = this.snapshots.get(f);
        if (cached?.version === version) return cached.snapshot;
        const text = sys.readFile(f);
        const snapshot = text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
        this.snapshots.set(f, { version, snapshot });
        return snapshot;
      },
      getCurrentDirectory: () => this.config.cwd,
      getCompilationSettings: () => this.options,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (f) => f === this.cellFile || this.remembered("exists", f, () => sys.fileExists(f)),
      readFile: (f, encoding) => (f === this.cellFile ? this.text : this.remembered("read", f, () => sys.readFile(f, encoding))),
      readDirectory: sys.readDirectory,
      directoryExists: (d) => this.remembered("dir", d, () => sys.directoryExists(d)),
      getDirectories: sys.getDirectories,
      realpath: (p) => this.remembered("realpath", p, () => sys.realpath!(p)),
      useCaseSensitiveFileNames: () => sys.useCaseSensitiveFileNames,
      // Without this TypeScript re-reads every package.json for each new program (per cell).
      getModuleResolutionCache: () => this.resolutionCache,
      resolveModuleNameLiterals: (literals, containingFile, redirected, options, containingSourceFile) =>
        literals.map((literal) => {
          const mode = ts.getModeForUsageLocation(containingSourceFile, literal, options);
          const name = literal.text;
          if (containingFile === this.cellFile && !/^[./]/.test(name)) {
            const fromKbook = ts.resolveModuleName(name, this.anchorFile, options, ts.sys, this.resolutionCache, undefined, ts.ModuleKind.ESNext);
            if (fromKbook.resolvedModule) return fromKbook;
          }
          return ts.resolveModuleName(name, containingFile, options, ts.sys, this.resolutionCache, redirected, mode);
        }),
    };
    return host;
  }
}


function toCellDiagnostic(d: TS.Diagnostic, file: TS.SourceFile, firstCellLine: number): CellDiagnostic {
  const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  // Parse diagnostics are detached (no file); they belong to the file they were parsed from.
  if (d.start === undefined || (d.file && d.file !== file)) return { line: 1, column: 1, code: d.code, message };
  const { line, character } = file.getLineAndCharacterOfPosition(d.start);
  return { line: line - firstCellLine + 1, column: character + 1, code: d.code, message };
}

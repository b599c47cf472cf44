/**
 * What a cell's text says before any type checking: the names it declares at top level (they
 * replace earlier declarations of the same names), its imports (kept for later cells, one import
 * per name so a single name can be shadowed), whether it ends in an expression (its value is the
 * cell's result), and whether it is complete enough to run (the `is_complete` request).
 */
import type * as TS from "typescript";
import { ts } from "./typescript.js";

export interface CellShape {
  /** Value and type names declared at top level, imports included. */
  names: string[];
  /** The names among `names` that exist at run time (variables, functions, classes, enums). */
  valueNames: string[];
  /** One import statement per imported local name, for the declarations later cells see. */
  imports: Map<string, string>;
  /** The last statement is an expression: its value is the cell's execute_result. */
  endsWithExpression: boolean;
  /** Offset (UTF-16) of the first `export` keyword, when the cell has one. */
  exportAt?: number;
}

export function parseCell(code: string, fileName = "cell.mts"): TS.SourceFile {
  return ts.createSourceFile(fileName, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

export function describeCell(source: TS.SourceFile): CellShape {
  const names = new Set<string>();
  const values = new Set<string>();
  const imports = new Map<string, string>();
  let exportAt: number | undefined;
  for (const statement of source.statements) {
    const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
    const exported = modifiers?.find((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (exported) exportAt ??= exported.getStart(source);
    if (ts.isExportDeclaration(statement) || ts.isExportAssignment(statement)) exportAt ??= statement.getStart(source);

    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) collectBindingNames(declaration.name, names, values);
    } else if ((ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) && statement.name) {
      names.add(statement.name.text);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement) || ts.isModuleDeclaration(statement)) &&
      statement.name &&
      ts.isIdentifier(statement.name)
    ) {
      names.add(statement.name.text);
      values.add(statement.name.text);
    } else if (ts.isImportDeclaration(statement)) {
      for (const [name, text] of splitImport(statement, source)) {
        names.add(name);
        imports.set(name, text);
      }
    }
  }
  const last = source.statements[source.statements.length - 1];
  return { names: [...names], valueNames: [...values], imports, endsWithExpression: last !== undefined && ts.isExpressionStatement(last), exportAt };
}

function collectBindingNames(name: TS.BindingName, names: Set<string>, values: Set<string>): void {
  if (ts.isIdentifier(name)) {
    names.add(name.text);
    values.add(name.text);
    return;
  }
  for (const element of name.elements) {
    if (ts.isBindingElement(element)) collectBindingNames(element.name, names, values);
  }
}

/** `import D, { a as b, type T } from "m"` → one statement per local name. */
function splitImport(statement: TS.ImportDeclaration, source: TS.SourceFile): [string, string][] {
  const clause = statement.importClause;
  if (!clause) return [];
  const from = statement.moduleSpecifier.getText(source);
  const attributes = statement.attributes ? ` ${statement.attributes.getText(source)}` : "";
  const typeOnly = clause.isTypeOnly ? "type " : "";
  const out: [string, string][] = [];
  if (clause.name) out.push([clause.name.text, `import ${typeOnly}${clause.name.text} from ${from}${attributes};`]);
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) {
    out.push([bindings.name.text, `import ${typeOnly}* as ${bindings.name.text} from ${from}${attributes};`]);
  } else if (bindings) {
    for (const element of bindings.elements) {
      out.push([element.name.text, `import ${typeOnly}{ ${element.getText(source)} } from ${from}${attributes};`]);
    }
  }
  return out;
}

/** The parser's errors for a source file (kept on the file by createSourceFile). */
export function parseDiagnosticsOf(source: TS.SourceFile): readonly TS.Diagnostic[] {
  return (source as unknown as { parseDiagnostics?: TS.Diagnostic[] }).parseDiagnostics ?? [];
}

export type Completeness = { status: "complete" } | { status: "invalid" } | { status: "incomplete"; indent: string };

/**
 * A cell is incomplete when the parser's only complaints are at the very end of the text (an
 * unclosed brace, bracket, template or comment): more lines would fix it. Any other syntax error
 * makes it invalid.
 */
export function checkCompleteness(code: string): Completeness {
  if (/^\s*%%/.test(code)) return magicCompleteness(code);
  if (code.trim() === "") return { status: "complete" };
  const diagnostics = parseDiagnosticsOf(parseCell(code));
  if (diagnostics.length === 0) return { status: "complete" };
  const end = code.trimEnd().length;
  const atEnd = diagnostics.every((d) => (d.start ?? 0) >= end && isOpenConstruct(d));
  return atEnd ? { status: "incomplete", indent: nextIndent(code) } : { status: "invalid" };
}

/**
 * A cell magic's body is free text, so, as in IPython, it ends with an empty line: `%%sh` alone
 * or `%%sh\nls` wants more, `%%sh\nls\n\n` is done. A %%bpftrace program with a brace still
 * open wants more whatever its last line.
 */
function magicCompleteness(code: string): Completeness {
  const lines = code.replace(/^\s*\n/, "").split("\n");
  const last = lines[lines.length - 1]!;
  const body = lines.slice(1).join("\n");
  const indent = /^\s*/.exec(lines.length > 1 ? last : "")![0];
  if (/^%%bpftrace\b/.test(lines[0]!)) {
    const open = openBraces(body);
    if (open > 0) return { status: "incomplete", indent: indent || "    ".repeat(open) };
  }
  return lines.length > 2 && last.trim() === "" ? { status: "complete" } : { status: "incomplete", indent };
}

/** Braces opened and not closed, outside strings and comments (a bpftrace program's blocks). */
function openBraces(text: string): number {
  let depth = 0;
  const code = text.replace(/"(?:[^"\\\n]|\\.)*"|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, "");
  for (const c of code) depth += c === "{" ? 1 : c === "}" ? -1 : 0;
  return Math.max(0, depth);
}

function isOpenConstruct(d: TS.Diagnostic): boolean {
  const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  return /expected\.$/.test(text) || /^Unterminated (template literal|regular expression)/.test(text);
}

function nextIndent(code: string): string {
  const lastLine = code.slice(code.lastIndexOf("\n") + 1);
  const current = /^\s*/.exec(lastLine)![0];
  return /[{([]\s*$/.test(lastLine) ? current + "  " : current;
}

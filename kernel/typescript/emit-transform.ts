/**
 * Turns a checked cell (an ES module) into a script the kernel can evaluate in V8's REPL mode,
 * where top-level `let`/`const`/`class` persist between evaluations and may be declared again,
 * and top-level `await` works. Static imports are not allowed in scripts, so
 *
 *   import vega, { View } from "vega"   →   const { default: vega, View } = await RT.import("vega");
 *   import * as kb from "kbook"         →   const kb = await RT.import("kbook");
 *   await import("x")                   →   await RT.import("x")
 *
 * where RT is the kernel's runtime object, which resolves specifiers the way the type checker
 * did. This is what lets ESM-only packages with top-level await (vega 6) load: the module is
 * loaded by Node's ESM loader, never converted to CommonJS (tslab's approach, which fails there).
 *
 * It runs after TypeScript's own transforms (types are gone, unused imports elided) and drops the
 * statements that belong to the declaration context in front of the cell and the `export {…}`
 * the checker appends behind it.
 */
import type * as TS from "typescript";
import { ts } from "./typescript.js";
import { RUNTIME_GLOBAL } from "./runtime-name.js";

export interface CellRegion {
  /** Offset where the cell's own text starts in the checked file. */
  start: number;
  /** Offset where it ends (the appended export list starts after it). */
  end: number;
}

export function scriptTransformer(region: CellRegion): TS.TransformerFactory<TS.SourceFile> {
  return (context) => (file) => {
    const f = context.factory;
    const runtime = (member: string) => f.createPropertyAccessExpression(f.createIdentifier(RUNTIME_GLOBAL), member);

    const visit = (node: TS.Node): TS.Node => {
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        return f.createCallExpression(runtime("import"), undefined, ts.visitNodes(node.arguments, visit, ts.isExpression));
      }
      if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) return runtime("meta");
      return ts.visitEachChild(node, visit, context);
    };

    const statements: TS.Statement[] = [];
    for (const statement of file.statements) {
      const original = ts.getOriginalNode(statement);
      const inCell = original.pos >= 0 && original.end > region.start && original.end <= region.end;
      if (!inCell || ts.isExportDeclaration(statement) || ts.isExportAssignment(statement)) continue;
      if (ts.isImportDeclaration(statement)) {
        statements.push(...dynamicImport(f, statement, runtime("import")));
        continue;
      }
      statements.push(ts.visitNode(statement, visit, ts.isStatement));
    }
    return f.updateSourceFile(file, statements);
  };
}

function dynamicImport(f: TS.NodeFactory, statement: TS.ImportDeclaration, importFn: TS.Expression): TS.Statement[] {
  const args: TS.Expression[] = [statement.moduleSpecifier];
  if (statement.attributes) {
    const attributes = f.createObjectLiteralExpression(
      statement.attributes.elements.map((a) => f.createPropertyAssignment(f.createStringLiteral(a.name.text), a.value)),
    );
    args.push(f.createObjectLiteralExpression([f.createPropertyAssignment("with", attributes)]));
  }
  const load = f.createAwaitExpression(f.createCallExpression(importFn, undefined, args));
  const constant = (name: TS.BindingName, init: TS.Expression) =>
    f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(name, undefined, undefined, init)], ts.NodeFlags.Const));

  const clause = statement.importClause;
  if (!clause) return [f.createExpressionStatement(load)];
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) {
    const out = [constant(f.createIdentifier(bindings.name.text), load)];
    if (clause.name) out.push(constant(f.createIdentifier(clause.name.text), f.createPropertyAccessExpression(f.createIdentifier(bindings.name.text), "default")));
    return out;
  }
  const elements: TS.BindingElement[] = [];
  if (clause.name) elements.push(f.createBindingElement(undefined, "default", f.createIdentifier(clause.name.text)));
  for (const element of bindings?.elements ?? []) {
    if (element.isTypeOnly) continue;
    const imported = element.propertyName ?? element.name;
    const property = ts.isIdentifier(imported) ? imported.text : f.createStringLiteral(imported.text);
    elements.push(f.createBindingElement(undefined, property, f.createIdentifier(element.name.text)));
  }
  if (elements.length === 0) return [f.createExpressionStatement(load)];
  return [constant(f.createObjectBindingPattern(elements), load)];
}

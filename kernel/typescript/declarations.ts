/**
 * The declarations earlier cells left behind, as TypeScript text: `declare const x: number;`,
 * `interface Foo {…}`, `import { bootVm } from "kbook";`. A cell is checked with this text in
 * front of it, minus the names the cell declares again, so re-running a cell (or redefining a
 * function) replaces the old declaration instead of clashing with it, as in a REPL.
 *
 * The text of a cell's declarations comes from TypeScript's own declaration emit (what `tsc
 * --declaration` would write), so inferred types are spelled the way the compiler spells them.
 */
import { ts } from "./typescript.js";

export class DeclarationContext {
  /** Name → the declaration statements for that name (overloads and merged declarations together). */
  private readonly entries = new Map<string, string>();

  /** The context text for checking a cell that declares `shadowed` itself. Ends with a newline. */
  render(shadowed: Iterable<string> = []): string {
    const skip = new Set(shadowed);
    let text = "";
    for (const [name, declaration] of this.entries) if (!skip.has(name)) text += declaration + "\n";
    return text;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Binds a name the kernel created (a magic's result): `declare let NAME: TYPE;`. */
  declareVariable(name: string, typeText: string): void {
    this.entries.delete(name);
    this.entries.set(name, `declare let ${name}: ${typeText};`);
  }

  apply(update: DeclarationUpdate): void {
    for (const name of update.names) this.entries.delete(name);
    for (const [name, text] of update.declarations) this.entries.set(name, text);
  }
}

/** What one cell adds: the names it (re)declares and the declaration text of each. */
export interface DeclarationUpdate {
  names: string[];
  declarations: [string, string][];
}

/**
 * Picks the declarations of `names` out of the declaration file emitted for a checked cell.
 * Imports come from the cell's own text; a value name the emit left out (it happens when a type
 * cannot be named outside its module) is kept as `any` so later cells can still use it.
 */
export function declarationsFromEmit(dts: string, shape: { names: readonly string[]; valueNames: readonly string[]; imports: Map<string, string> }): DeclarationUpdate {
  const { names, imports } = shape;
  const values = new Set(shape.valueNames);
  const wanted = new Set(names);
  const byName = new Map<string, string[]>();
  const add = (name: string, text: string) => {
    if (!wanted.has(name) || imports.has(name)) return;
    const list = byName.get(name) ?? [];
    list.push(text);
    byName.set(name, list);
  };
  const source = ts.createSourceFile("cell.d.mts", dts, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) {
      const keyword = statement.declarationList.flags & ts.NodeFlags.Const ? "const" : statement.declarationList.flags & ts.NodeFlags.Let ? "let" : "var";
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) add(declaration.name.text, `declare ${keyword} ${declaration.getText(source)};`);
      }
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement) ||
        ts.isModuleDeclaration(statement)) &&
      statement.name &&
      ts.isIdentifier(statement.name)
    ) {
      add(statement.name.text, ambient(statement.getText(source)));
    }
  }
  const declarations: [string, string][] = [];
  for (const name of names) {
    const imported = imports.get(name);
    if (imported) declarations.push([name, imported]);
    else if (byName.has(name)) declarations.push([name, byName.get(name)!.join("\n")]);
    else if (values.has(name)) declarations.push([name, `declare let ${name}: any;`]);
  }
  return { names: [...names], declarations };
}

/** `export declare function f…` / `export interface I…` → the same without `export`, ambient. */
function ambient(text: string): string {
  const stripped = text.replace(/^export\s+(default\s+)?/, "");
  return /^(declare|interface|type)\b/.test(stripped) ? stripped : `declare ${stripped}`;
}

import { beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { packageRoot, assetPath } from "../../lib/paths.js";
import { CellCompiler, type CompileOutcome } from "../../kernel/typescript/cell-compiler.js";
import { checkCompleteness } from "../../kernel/typescript/cell-source.js";
import { CellSourceMap } from "../../kernel/typescript/source-map.js";

function compiled(outcome: CompileOutcome) {
  if (!outcome.ok) throw new Error(`expected the cell to compile: ${JSON.stringify(outcome.diagnostics)}`);
  return outcome.cell;
}

describe("cell compiler", () => {
  let compiler: CellCompiler;
  const run = (code: string) => {
    const cell = compiled(compiler.compile(code));
    compiler.commit(cell.commitId);
    return cell;
  };

  beforeAll(() => {
    compiler = new CellCompiler({ cwd: join(packageRoot(), "test", "kernel"), packageRoot: packageRoot(), globalsFile: assetPath("kernel", "cell-globals.d.ts") });
    compiler.warm();
  });

  test("a type error is reported with its line and column in the cell", () => {
    const outcome = compiler.compile('const ok = 1;\nconst n: number = "text";');
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.diagnostics).toEqual([{ line: 2, column: 7, code: 2322, message: "Type 'string' is not assignable to type 'number'." }]);
  });

  test("declarations carry over to later cells with their types, and may be declared again", () => {
    run("const count = 41;\ninterface Point { x: number; y: number }\nfunction norm(p: Point): number { return Math.hypot(p.x, p.y); }");
    expect(run("count + norm({ x: 3, y: 4 })").script).toContain("count + norm(");
    const wrong = compiler.compile("const s: string = count;");
    expect(wrong.ok).toBe(false);
    run('const count = "now a string";');
    expect(compiler.compile("const s: string = count;").ok).toBe(true);
    expect(compiler.compile("const n: number = count;").ok).toBe(false);
  });

  test("static and dynamic imports become awaited runtime imports; type-only imports vanish", () => {
    const cell = run('import * as vega from "vega";\nimport { formatDuration, type ProgressEvent } from "kbook";\nconst e: ProgressEvent | undefined = undefined;\nconst fs = await import("node:fs");\nformatDuration(1000)');
    expect(cell.script).toContain("const vega = await __kbookRuntime.import(\"vega\");");
    expect(cell.script).toMatch(/const \{ formatDuration: formatDuration \} = await __kbookRuntime\.import\("kbook"\);/);
    expect(cell.script).toContain('await __kbookRuntime.import("node:fs")');
    expect(cell.script).not.toContain("ProgressEvent");
    expect(cell.endsWithExpression).toBe(true);
    // The imports are declarations for later cells.
    expect(compiler.compile("vega.version.length + formatDuration(5).length").ok).toBe(true);
  });

  test("cells cannot export, with a message that says why", () => {
    const outcome = compiler.compile("export const x = 1;");
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.diagnostics[0]!.message).toMatch(/Cells do not export/);
  });

  test("the kernel's globals are typed", () => {
    expect(compiler.compile('display.html("<b>x</b>").update("y"); cellSignal().aborted; clearOutput(true)').ok).toBe(true);
    expect(compiler.compile("display.html(42)").ok).toBe(false);
  });

  test("the source map leads from the compiled script back to the cell's line", () => {
    const cell = run("type T = { a: number };\n\nconst t: T = { a: 1 };\nthrow new Error(String(t.a));");
    const lines = cell.script.split("\n");
    const throwLine = lines.findIndex((l) => l.startsWith("throw")) + 1;
    expect(new CellSourceMap(cell.mappings, cell.firstCellLine).original(throwLine, 1)).toEqual({ line: 4, column: 1 });
  });

  test("completion offers members by prefix and the span they replace", () => {
    run("const someLongName = 1;");
    expect(compiler.complete("Math.ab", 7)).toMatchObject({ matches: ["abs"], start: 5, end: 7 });
    expect(compiler.complete("someLo", 6).matches).toContain("someLongName");
  });

  test("inspection shows the signature and documentation", () => {
    const info = compiler.inspect("Math.max", 8);
    expect(info?.plain).toMatch(/Math\.max\(\.\.\.values: number\[\]\): number/);
    expect(info?.markdown).toContain("```typescript");
  });
});

describe("is_complete", () => {
  test.each([
    ["1 + 1", "complete"],
    ["function f() {", "incomplete"],
    ["const a = [1, 2,", "incomplete"],
    ["const s = `abc", "incomplete"],
    ["1 +* 2", "invalid"],
    ["let x = );", "invalid"],
    // Cell magics end with an empty line, as in IPython; a bpftrace block left open wants more.
    ["%%sh", "incomplete"],
    ["%%sh\nif [ x", "incomplete"],
    ["%%sh\nif [ x\n", "complete"],
    ["%%gdb\nbreak do_sys_openat2\ncontinue\n", "complete"],
    ["%%bpftrace\nkprobe:vfs_read {\n", "incomplete"],
    ["%%bpftrace\nkprobe:vfs_read { printf(\"{\"); }\n", "complete"],
    ["%%bpftrace --duration 2s\nkprobe:vfs_read { @[comm] = count(); }", "incomplete"],
  ])("%j is %s", (code, status) => {
    expect(checkCompleteness(code).status).toBe(status);
  });

  test("an incomplete block asks for more indentation", () => {
    expect(checkCompleteness("if (x) {")).toEqual({ status: "incomplete", indent: "  " });
    expect(checkCompleteness("%%bpftrace\nkprobe:vfs_read {\n")).toEqual({ status: "incomplete", indent: "    " });
  });
});

describe("cell compiler syntax errors", () => {
  const compiler = new CellCompiler({ cwd: join(packageRoot(), "test", "kernel"), packageRoot: packageRoot(), globalsFile: assetPath("kernel", "cell-globals.d.ts") });

  test.each([
    ["function f() {", 1, 15, "'}' expected."],
    ["const ok = 1;\nconst a = [1, 2,", 2, 17, "']' expected."],
    ["let x = );", 1, 9, "Expression expected."],
  ])("%j is a syntax error at its place in the cell", (code, line, column, message) => {
    const outcome = compiler.compile(code);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.diagnostics[0]).toMatchObject({ line, column, message });
  });
});

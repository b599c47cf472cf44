/**
 * Values at a stop, typed: a frame's arguments and locals with name, type and value
 * (`-stack-list-variables`), and any expression as a tree of typed values through gdb's variable
 * objects (`-var-create`, `-var-list-children`), so `*how` or `current->comm` arrive as fields
 * rather than one line of gdb's printing. The MI parsing here is pure.
 */
import type { MiTuple, MiValue } from "./mi.js";

export interface GdbVariable {
  name: string;
  type: string;
  /** gdb's printed value; structs and arrays are "{...}" (print() them for their fields). */
  value: string;
  /** An argument of the function (else a local). */
  arg: boolean;
}

/** A typed value: a leaf with its printed value, or a struct/array/pointer with children. */
export interface GdbValue {
  /** The expression or field name ("how", "flags", "[0]"). */
  name: string;
  /** The full expression that reaches it ("(*how).flags"). */
  expression: string;
  type: string;
  /** gdb's printed value ("0x8000", "{...}", "0xffff888003a1c000"). */
  value: string;
  /** Members of a struct or union, elements of an array, the target of a pointer. */
  children?: GdbValue[];
  /** True when there were more children than were read. */
  truncated?: boolean;
}

function str(value: MiValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** `-stack-list-variables --simple-values` → variables. */
export function parseVariables(value: MiValue | undefined): GdbVariable[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    const t = item as MiTuple;
    const name = str(t?.name);
    if (!name) return [];
    return [{ name, type: str(t.type) ?? "", value: str(t.value) ?? "{...}", arg: str(t.arg) === "1" }];
  });
}

/** One child tuple of `-var-list-children` (or the `-var-create` answer). */
export interface VarObject {
  id: string;
  expression: string;
  type: string;
  value: string;
  children: number;
}

export function parseVarObject(t: MiTuple): VarObject {
  return {
    id: str(t.name) ?? "",
    expression: str(t.exp) ?? "",
    type: str(t.type) ?? "",
    value: str(t.value) ?? "",
    children: Number(str(t.numchild) ?? "0"),
  };
}

export function parseVarChildren(value: MiValue | undefined): VarObject[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) => parseVarObject(((item as MiTuple).child ?? item) as MiTuple));
}

/**
 * A typed value as plain data: numbers for integers (bigint past 2^53), strings for C strings
 * and char arrays, objects for structs, arrays for arrays, and gdb's text for the rest
 * (pointers, enums). `current->comm` → "cat"; `*how` → { flags: 32768, mode: 0, resolve: 0 }.
 */
export function valueToData(value: GdbValue): unknown {
  if (value.children && value.children.length && !/^char \[\d+\]$/.test(value.type)) {
    // gdb's varobjs group C++ access specifiers; a C struct's anonymous unions have no name.
    if (value.children.every((c) => /^\[\d+\]$/.test(c.name) || /^\d+$/.test(c.name))) return value.children.map(valueToData);
    const object: Record<string, unknown> = {};
    for (const child of value.children) {
      if (!child.name || child.name.startsWith("<anonymous")) Object.assign(object, valueToData(child) as object);
      else object[child.name] = valueToData(child);
    }
    return object;
  }
  return scalar(value.value, value.type);
}

/** gdb's printed scalar as data. */
export function scalar(text: string, type = ""): unknown {
  const t = text.trim();
  const string = /^(?:0x[0-9a-f]+ )?"((?:[^"\\]|\\.)*)"/.exec(t);
  // A char array ends at its first NUL, however long gdb's printing of the rest ("cat\000…", repeats).
  if (string && (/char/.test(type) || t.startsWith('"'))) return unescapeC(string[1]!).replace(/\0[\s\S]*$/, "");
  if (/^-?\d+$/.test(t)) {
    const n = BigInt(t);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (t === "true" || t === "false") return t === "true";
  return t;
}

function unescapeC(text: string): string {
  return text.replace(/\\(?:([0-7]{1,3})|x([0-9a-fA-F]+)|(.))/g, (_, oct: string, hex: string, c: string) => {
    if (oct) return String.fromCharCode(parseInt(oct, 8));
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    return ({ n: "\n", t: "\t", r: "\r", "0": "\0" } as Record<string, string>)[c] ?? c;
  });
}

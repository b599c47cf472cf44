/**
 * GDB/MI output, parsed: one line of `gdb --interpreter=mi3` output becomes a typed record.
 * Pure functions over strings, so they can be tested with fixtures and fuzzed. Hand-written:
 * the grammar below is small and fixed, and the npm packages that speak MI come wrapped in a
 * whole debugger front end.
 *
 * Grammar (gdb manual, "GDB/MI Output Syntax"):
 *   result-record  [token] "^" class ("," result)*
 *   async-record   [token] ("*" | "+" | "=") class ("," result)*
 *   stream-record  ("~" | "@" | "&") c-string
 *   prompt         "(gdb)"
 *   result         variable "=" value;  value  c-string | tuple | list
 *   tuple          "{}" | "{" result ("," result)* "}"
 *   list           "[]" | "[" value ("," value)* "]" | "[" result ("," result)* "]"
 */

/** A value: a string (MI has no numbers), a list, or a tuple of named values. */
export type MiValue = string | MiValue[] | MiTuple;
export interface MiTuple {
  [name: string]: MiValue;
}

export type MiResultClass = "done" | "running" | "connected" | "error" | "exit";

export type MiRecord =
  /** The answer to a command: `123^done,bkpt={...}`. */
  | { kind: "result"; token?: number; class: MiResultClass; results: MiTuple }
  /** `*stopped` (exec), `+download` (status), `=breakpoint-modified` (notify). */
  | { kind: "exec" | "status" | "notify"; token?: number; class: string; results: MiTuple }
  /** `~` console output, `@` target output, `&` gdb's log (echoed commands, errors). */
  | { kind: "console" | "target" | "log"; text: string }
  | { kind: "prompt" };

/** A line that is not valid MI (e.g. an inferior writing to gdb's own stdout). */
export class MiSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: string,
    readonly position: number,
  ) {
    super(`${message} at column ${position + 1} of MI line: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`);
    this.name = "MiSyntaxError";
  }
}

const RESULT_CLASSES = new Set<string>(["done", "running", "connected", "error", "exit"]);
const ASYNC_KINDS = { "*": "exec", "+": "status", "=": "notify" } as const;
const STREAM_KINDS = { "~": "console", "@": "target", "&": "log" } as const;

/** Parses one line of MI output (without its newline). Throws MiSyntaxError for anything else. */
export function parseMiLine(line: string): MiRecord {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (/^\(gdb\) *$/.test(text)) return { kind: "prompt" };
  const first = text[0];
  if (first === "~" || first === "@" || first === "&") {
    const p = new MiCursor(text, 1);
    const value = p.cString();
    p.end();
    return { kind: STREAM_KINDS[first], text: value };
  }
  const p = new MiCursor(text, 0);
  const token = p.token();
  const sigil = p.peek();
  if (sigil === "^" || sigil === "*" || sigil === "+" || sigil === "=") {
    p.advance();
    const cls = p.word();
    const results = p.resultsAfterComma();
    p.end();
    if (sigil === "^") {
      if (!RESULT_CLASSES.has(cls)) throw new MiSyntaxError(`Unknown result class '${cls}'`, text, 1);
      return { kind: "result", ...(token === undefined ? {} : { token }), class: cls as MiResultClass, results };
    }
    return { kind: ASYNC_KINDS[sigil], ...(token === undefined ? {} : { token }), class: cls, results };
  }
  throw new MiSyntaxError("Not an MI record", text, p.pos);
}

/** Decodes the body of an MI c-string (between the quotes); the bytes are read as UTF-8. */
export function decodeMiCString(body: string): string {
  const p = new MiCursor(`"${body}"`, 0);
  const value = p.cString();
  p.end();
  return value;
}

/**
 * Quotes text as a c-string argument for an MI command (`-interpreter-exec console "…"`).
 * gdb's MI input parser understands these escapes; newlines must not reach the command line.
 */
export function quoteMiArgument(text: string): string {
  return `"${text.replace(/[\\"\n\r\t]/g, (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!)}"`;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, e: 27, "\\": 92, '"': 34, "'": 39, "?": 63,
};
const utf8 = new TextDecoder("utf-8");
const utf8Encoder = new TextEncoder();

class MiCursor {
  constructor(
    private readonly text: string,
    public pos: number,
  ) {}

  peek(): string | undefined {
    return this.text[this.pos];
  }

  advance(): void {
    this.pos++;
  }

  fail(message: string): never {
    throw new MiSyntaxError(message, this.text, this.pos);
  }

  expect(char: string): void {
    if (this.text[this.pos] !== char) this.fail(`Expected '${char}'`);
    this.pos++;
  }

  end(): void {
    if (this.pos !== this.text.length) this.fail("Unexpected text after the record");
  }

  token(): number | undefined {
    const start = this.pos;
    while (this.pos < this.text.length && this.text.charCodeAt(this.pos) >= 48 && this.text.charCodeAt(this.pos) <= 57) this.pos++;
    if (this.pos === start) return undefined;
    const token = Number(this.text.slice(start, this.pos));
    return Number.isSafeInteger(token) ? token : this.fail("Token too large");
  }

  /** A class or variable name: gdb uses letters, digits, '-' and '_'. */
  word(): string {
    const m = /^[A-Za-z0-9_-]+/.exec(this.text.slice(this.pos, this.pos + 256));
    if (!m) this.fail("Expected a name");
    this.pos += m[0].length;
    return m[0];
  }

  resultsAfterComma(): MiTuple {
    const entries: [string, MiValue][] = [];
    while (this.peek() === ",") {
      this.advance();
      entries.push(this.result());
    }
    return Object.fromEntries(entries);
  }

  result(): [string, MiValue] {
    const name = this.word();
    this.expect("=");
    return [name, this.value()];
  }

  value(): MiValue {
    const c = this.peek();
    if (c === '"') return this.cString();
    if (c === "{") return this.tuple();
    if (c === "[") return this.list();
    return this.fail("Expected a value");
  }

  tuple(): MiTuple {
    this.expect("{");
    // Object.fromEntries defines own properties, so a key like "__proto__" stays data.
    const entries: [string, MiValue][] = [];
    if (this.peek() === "}") {
      this.advance();
      return {};
    }
    for (;;) {
      entries.push(this.result());
      if (this.peek() === "}") break;
      this.expect(",");
    }
    this.advance();
    return Object.fromEntries(entries);
  }

  /** A list of values, or of results (`[frame={…},frame={…}]`), whose names are dropped. */
  list(): MiValue[] {
    this.expect("[");
    const items: MiValue[] = [];
    if (this.peek() === "]") {
      this.advance();
      return items;
    }
    const ofResults = /^[A-Za-z0-9_-]+=/.test(this.text.slice(this.pos, this.pos + 257));
    for (;;) {
      items.push(ofResults ? this.result()[1] : this.value());
      if (this.peek() === "]") break;
      this.expect(",");
    }
    this.advance();
    return items;
  }

  /**
   * gdb prints bytes ≥ 0x80 and control characters as octal escapes (`w\303\266rld`), so the
   * escapes are collected as bytes and the whole string decoded as UTF-8 at the end.
   */
  cString(): string {
    this.expect('"');
    const bytes: number[] = [];
    for (;;) {
      if (this.pos >= this.text.length) this.fail("Unterminated string");
      const c = this.text[this.pos]!;
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c !== "\\") {
        const code = this.text.codePointAt(this.pos)!;
        if (code < 0x80) bytes.push(code);
        else for (const b of utf8Encoder.encode(String.fromCodePoint(code))) bytes.push(b);
        this.pos += code > 0xffff ? 2 : 1;
        continue;
      }
      this.pos++;
      const e = this.text[this.pos];
      if (e === undefined) this.fail("Unterminated escape");
      if (e in SIMPLE_ESCAPES) {
        bytes.push(SIMPLE_ESCAPES[e]!);
        this.pos++;
      } else if (e >= "0" && e <= "7") {
        const m = /^[0-7]{1,3}/.exec(this.text.slice(this.pos, this.pos + 3))!;
        bytes.push(parseInt(m[0], 8) & 0xff);
        this.pos += m[0].length;
      } else if (e === "x") {
        const m = /^[0-9A-Fa-f]{1,2}/.exec(this.text.slice(this.pos + 1, this.pos + 3));
        if (!m) this.fail("Bad \\x escape");
        bytes.push(parseInt(m[0], 16));
        this.pos += 1 + m[0].length;
      }
      // gdb never emits other escapes: the character after the backslash is kept as it is.
    }
    return utf8.decode(new Uint8Array(bytes));
  }
}

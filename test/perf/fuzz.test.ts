/**
 * Property tests: the fast collapser agrees with a plain line-by-line reference on generated
 * perf-script-like text (weird process names, events, symbols, modules, garbage lines, any
 * chunking), its hand scanners agree with the regular expressions they replace, and no input
 * makes it fail with anything but a UsageError. Inputs that once broke it live in
 * testdata/fuzz/ and are replayed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors/index.js";
import { PerfScriptCollapser, collapsePerfScript } from "../../lib/perf/index.js";
import { scanEventName, scanEventRecord } from "../../lib/perf/event-line.js";
import { EVENT_RE, RECORD_RE, referenceCollapse } from "./reference-collapse.js";

const pick = <T>(...values: T[]) => fc.constantFrom(...values);
const chars = (alphabet: string, max = 12) => fc.array(fc.constantFrom(...alphabet.split("")), { maxLength: max }).map((a) => a.join(""));

const comm = fc.oneof(
  pick("dd", "java", "swapper", "V8 WorkerThread", "kworker/0:1", "perf-exec", "a", "0", "x y z", "java-1"),
  chars("ab 0/:;-_\t[]", 10).map((s) => `p${s}`),
);
const ids = fc.oneof(
  fc.nat(99999).map(String),
  fc.tuple(fc.nat(99999), fc.nat(99999)).map(([p, t]) => `${p}/${t}`),
  pick("0/0", "12/0", "007", "1//2"),
);
const event = pick("cycles", "instructions", "cpu-clock", "cpu-clock:ppp", "sched:sched_switch", "page-faults", "");
const header = fc
  .tuple(comm, ids, fc.option(pick("[000]", "[001]")), pick("1.000", "666709.771979", "2"), fc.option(pick("1", "0", "00", "10101010", "333444")), event, pick("", " ", "  "))
  .map(([c, id, cpu, time, period, ev, trail]) =>
    `${c} ${id}${cpu ? ` ${cpu}` : ""} ${time}:${period === null ? "" : `   ${period}`}${ev === "" ? "" : ` ${ev}:`}${trail}`,
  );
const symbol = fc.oneof(
  pick("native_safe_halt+0xb", "[unknown]", "foo->bar->baz", "a->", "->a", "(anon)", "Lcom/Foo;::bar", "std::vector<int>::push_back(int)", "main", "x;y", "\"quoted'", "net/http.(*Client).Do", "(anonymous namespace)::f(int)", "+0x10", "f_[i]", "g_[j]"),
  chars("abc_:;()<>-+0x.[]/ '\"", 14).map((s) => `s${s}`),
);
const module = pick("[kernel.kallsyms]", "/lib/modules/4.1/build/vmlinux", "/usr/lib/libc.so.6", "[unknown]", "/tmp/perf-123.map", "[nf_conntrack]", "/bin/a b", "", "(deleted)", "/x/jitted-1-2.so");
const pc = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => n.toString(16)), pick("0", "g", "ffffffff8103ce3b"));
const stackLine = fc
  .tuple(pick("\t", "\t    ", "  ", "", " \t "), pc, pick(" ", "  ", "\t"), symbol, pick(" ", ""), module, pick("", " ", " extra"))
  .map(([indent, p, sep, sym, space, mod, tailText]) => `${indent}${p}${sep}${sym}${space}(${mod})${tailText}`);
const noise = pick("# comment", "#", " ", "\t", "garbage line", "\r", "12345", "a;b;c 5");
const sample = fc.tuple(header, fc.array(stackLine, { maxLength: 6 }), pick("\n", "", "\n\n")).map(([h, lines, end]) => [h, ...lines].join("\n") + "\n" + end);
const document = fc
  .tuple(fc.array(fc.oneof({ weight: 6, arbitrary: sample }, { weight: 1, arbitrary: noise.map((n) => `${n}\n`) }), { maxLength: 12 }), pick("", "\n", "tail"))
  .map(([parts, end]) => parts.join("") + end);
/** Real captures repeat call chains (the collapser remembers whole blocks): documents built from a few samples, repeated. */
const repetitive = fc
  .tuple(
    fc.array(fc.oneof({ weight: 6, arbitrary: sample }, { weight: 1, arbitrary: noise.map((n) => `${n}\n`) }), { minLength: 1, maxLength: 5 }),
    fc.array(fc.nat(), { maxLength: 30 }),
    pick("", "\n", "tail"),
  )
  .map(([pool, picks, end]) => picks.map((i) => pool[i % pool.length]!).join("") + end);
const options = fc.record({
  pid: fc.boolean(),
  tid: fc.boolean(),
  kernel: fc.boolean(),
  jit: fc.boolean(),
  addrs: fc.boolean(),
});

function fast(text: string, opts: object, chunk: number): string {
  const collapser = new PerfScriptCollapser(opts);
  const bytes = Buffer.from(text, "latin1");
  for (let i = 0; i < bytes.length; i += chunk) collapser.push(bytes.subarray(i, i + chunk));
  return collapser.end().toBuffer().toString("latin1");
}

describe("the collapser agrees with the line-by-line reference", () => {
  it("on generated perf script text, any chunking", () => {
    fc.assert(
      fc.property(document, options, fc.integer({ min: 1, max: 64 }), (text, opts, chunk) => {
        expect(fast(text, opts, chunk)).toBe(referenceCollapse(text, opts));
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
  });
  it("on text that repeats its samples, in big and small chunks", () => {
    fc.assert(
      fc.property(repetitive, options, fc.constantFrom(1, 13, 100, 1 << 20), (text, opts, chunk) => {
        expect(fast(text, opts, chunk)).toBe(referenceCollapse(text, opts));
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
  });
});

describe("hand scanners equal the regular expressions", () => {
  const line = fc.oneof(header, stackLine, chars("ab 1/:\t\r\v0", 30), fc.string({ maxLength: 40 }));
  it("sample header (comm, pid, tid)", () => {
    fc.assert(
      fc.property(line, (text) => {
        const out = { commEnd: 0, pidStart: 0, pidEnd: 0, tidStart: 0, tidEnd: 0 };
        const m = RECORD_RE.exec(text);
        const ok = scanEventRecord(Buffer.from(text, "latin1"), 0, text.length, out);
        expect(ok).toBe(m !== null);
        if (m) {
          expect(text.slice(0, out.commEnd)).toBe(m[1]);
          expect(text.slice(out.pidStart, out.pidEnd)).toBe(m[2]);
          expect(text.slice(out.tidStart, out.tidEnd)).toBe(m[3] ?? "");
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 3000) },
    );
  });
  it("event name and period", () => {
    fc.assert(
      fc.property(line, (text) => {
        const out = { eventStart: 0, eventEnd: 0, periodStart: 0, periodEnd: 0 };
        const m = EVENT_RE.exec(text);
        const ok = scanEventName(Buffer.from(text, "latin1"), 0, text.length, out);
        expect(ok).toBe(m !== null);
        if (m) {
          expect(text.slice(out.eventStart, out.eventEnd)).toBe(m[2]);
          expect(text.slice(out.periodStart, out.periodEnd)).toBe(m[1] ?? "");
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 3000) },
    );
  });
});

describe("no input crashes the collapser", () => {
  function collapseOrUsageError(bytes: Uint8Array): void {
    try {
      collapsePerfScript(bytes);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
    }
  }
  it("arbitrary bytes and strings", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => collapseOrUsageError(bytes)), { numRuns: Number(process.env.FUZZ_RUNS ?? 1000) });
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => collapseOrUsageError(Buffer.from(text, "utf8"))), { numRuns: Number(process.env.FUZZ_RUNS ?? 1000) });
    fc.assert(fc.property(document, (text) => collapseOrUsageError(Buffer.from(text, "latin1"))), { numRuns: 300 });
  });

  const dir = join(import.meta.dirname, "testdata", "fuzz");
  const fixtures = readdirSync(dir).filter((f) => f.endsWith(".txt"));
  it.each(fixtures)("kept crasher %s", (name) => {
    const bytes = readFileSync(join(dir, name));
    collapseOrUsageError(bytes);
    const text = bytes.toString("latin1");
    expect(fast(text, {}, 3)).toBe(referenceCollapse(text));
  });
});

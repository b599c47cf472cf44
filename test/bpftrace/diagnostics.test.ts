import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { closestNames, editDistance, missingProbe, parseDiagnostics, renderDiagnostic } from "../../lib/bpftrace/index.js";

const data = (name: string) => readFileSync(join(import.meta.dirname, "testdata", name), "utf8");

describe("bpftrace diagnostics", () => {
  it("reads positioned errors and skips the echoed source and marker lines", () => {
    const program = "BEGIN { @x = 1 ";
    const { diagnostics, other } = parseDiagnostics(data("syntax-error.stderr"), program);
    expect(diagnostics.map((d) => d.level)).toEqual(["ERROR", "ERROR"]);
    expect(diagnostics[1]).toEqual({ level: "ERROR", message: "syntax error, unexpected end of file, expecting }", line: 1, column: 16, endColumn: 16 });
    expect(other).toEqual([]);
  });

  it("recognises the echoed line of a tab-indented program (bpftrace prints tabs as 4 spaces)", () => {
    const program = data("multiline-error.bt");
    const { diagnostics, other } = parseDiagnostics(data("multiline-error.stderr"), program);
    expect(diagnostics.at(-1)).toMatchObject({ line: 4, column: 2, endColumn: 4, message: "syntax error, unexpected map, expecting }" });
    expect(other).toEqual([]);
    const drawn = renderDiagnostic(program, diagnostics.at(-1)!);
    expect(drawn.split("\n")).toEqual(["error: syntax error, unexpected map, expecting } (line 4, column 2)", "4 | \t@x = 1;", "  | \t^~"]);
  });

  it("draws a caret under the column", () => {
    const program = "BEGIN { @x = 1 ";
    const d = parseDiagnostics(data("syntax-error.stderr"), program).diagnostics[1]!;
    const [, source, marker] = renderDiagnostic(program, d).split("\n");
    expect(marker!.indexOf("^") - marker!.indexOf("|")).toBe(source!.indexOf("|") + 16 - source!.indexOf("|") + 1);
    expect(source!.slice(source!.indexOf("|") + 2)).toBe(program);
  });

  it("keeps non-diagnostic lines and reads warnings", () => {
    const program = "kprobe:nonexistent_fn_xyz { @x = 1 }";
    const { diagnostics, other } = parseDiagnostics(data("host-kprobe-no-tracefs.stderr"), program);
    expect(diagnostics.map((d) => d.level)).toEqual(["ERROR", "WARNING", "ERROR"]);
    expect(other).toEqual(["create_probe_event: open(/sys/kernel/tracing/kprobe_events): No such file or directory"]);
  });

  it("finds the probe that does not exist", () => {
    const kprobe = parseDiagnostics(data("host-kprobe-no-tracefs.stderr")).diagnostics;
    expect(missingProbe("kprobe:nonexistent_fn_xyz { @x = 1 }", kprobe)).toBe("kprobe:nonexistent_fn_xyz");
    const tracepoint = parseDiagnostics(data("tracepoint-not-found.stderr")).diagnostics;
    expect(missingProbe("tracepoint:sched:nonexist { @x = 1 }", tracepoint)).toBe("tracepoint:sched:nonexist");
    const kfunc = [{ level: "ERROR" as const, message: "Failed to resolve kfunc args.", line: 1, column: 1, endColumn: 15 }];
    expect(missingProbe("kfunc:vfs_raed { @x = 1 }", kfunc)).toBe("kfunc:vfs_raed");
  });

  it("finds the missing probe in what the debian guest's bpftrace says", () => {
    const kprobe = parseDiagnostics(data("guest-unknown-kprobe.stderr")).diagnostics;
    expect(missingProbe("kprobe:task_tick_fiar { @ = count(); }", kprobe)).toBe("kprobe:task_tick_fiar");
    // "No BTF found for vfs_raed" has no position: the provider comes from the program.
    const kfunc = parseDiagnostics(data("guest-unknown-kfunc.stderr")).diagnostics;
    expect(kfunc).toEqual([{ level: "ERROR", message: "No BTF found for vfs_raed" }]);
    expect(missingProbe("kfunc:vfs_raed { @ = count(); }", kfunc)).toBe("kfunc:vfs_raed");
    expect(missingProbe("kretfunc:vfs_raed { @ = count(); }", kfunc)).toBe("kretfunc:vfs_raed");
    const tracepoint = parseDiagnostics(data("guest-unknown-tracepoint.stderr"), "tracepoint:sched:sched_swich { @ = count(); }").diagnostics;
    expect(missingProbe("tracepoint:sched:sched_swich { @ = count(); }", tracepoint)).toBe("tracepoint:sched:sched_swich");
  });

  it("measures edit distance, giving up past a limit", () => {
    expect(editDistance("task_tick_fiar", "task_tick_fair")).toBe(2);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("aaaaaaaaaa", "b", 2)).toBe(3);
  });

  it("suggests the closest real kernel functions", () => {
    // The host's own symbol table: ~100k real names.
    const names = readFileSync("/proc/kallsyms", "utf8")
      .split("\n")
      .map((l) => l.split(/\s+/)[2])
      .filter((n): n is string => !!n && /^[a-z_]/.test(n))
      .map((n) => `kprobe:${n}`);
    expect(names.length).toBeGreaterThan(10_000);
    const started = Date.now();
    const suggestions = closestNames("kprobe:task_tick_fiar", names);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(suggestions[0]).toBe("kprobe:task_tick_fair");
    expect(closestNames("kprobe:zzzzqqqqxxxx_no_such", names)).toEqual([]);
  });
});

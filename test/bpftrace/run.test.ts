/**
 * The runner against the real bpftrace 0.17 binary on this host (through HostGuest): the same
 * stop semantics as in a guest — duration and caller interrupts send SIGINT and the maps still
 * come back. The host has no kprobes (see failure.test.ts); profile and interval probes work.
 */
import { describe, expect, it } from "vitest";
import { applyStackMode, bpftrace, bpftraceTag, runBpftrace, type BpftraceRecord } from "../../lib/bpftrace/index.js";
import { BpftraceProgramError } from "../../lib/bpftrace/errors.js";
import { HostGuest, hostHasBpftrace } from "../support/host-guest.js";

describe("applyStackMode", () => {
  it("rewrites bare kstack/ustack only", () => {
    const program = 'kprobe:f { @[kstack] = count(); @u[ustack(3)] = count(); printf("kstack\\n"); // kstack\n @k[kstack, comm] = count(); /* ustack */ $kstackx = 1; }';
    expect(applyStackMode(program, "perf")).toBe(
      'kprobe:f { @[kstack(perf)] = count(); @u[ustack(3)] = count(); printf("kstack\\n"); // kstack\n @k[kstack(perf), comm] = count(); /* ustack */ $kstackx = 1; }',
    );
    expect(applyStackMode(program, "bpftrace")).toBe(program);
  });
});

describe.skipIf(!hostHasBpftrace)("runBpftrace with the real bpftrace 0.17 (host)", () => {
  const guest = new HostGuest();

  it("stops after the duration with SIGINT and returns the maps", async () => {
    const progress: string[] = [];
    const result = await runBpftrace(guest, "profile:hz:99 { @[kstack] = count(); @n = count(); }", {
      duration: "1.5s",
      onProgress: (e) => progress.push(e.message ?? ""),
    });
    expect(result.run!.stopReason).toBe("duration");
    expect(result.run!.exitCode).toBe(0);
    expect(result.run!.tracedMs).toBeGreaterThanOrEqual(1500);
    expect(result.attachedProbes).toBe(1);
    const n = result.map("@n")!.entries[0]!.value as number;
    expect(n).toBeGreaterThan(0);
    expect(result.stacks().total).toBe(n);
    expect(progress.some((p) => p.includes("1 probe attached"))).toBe(true);
  });

  it("streams printf output while running and stops when the program calls exit()", async () => {
    const seen: { text: string; at: number }[] = [];
    const records: BpftraceRecord["type"][] = [];
    const result = await runBpftrace(guest, 'interval:ms:100 { @i++; printf("tick %d\\n", @i); if (@i == 5) { exit(); } }', {
      onPrintf: (text) => seen.push({ text, at: Date.now() }),
      onRecord: (r) => records.push(r.type),
    });
    expect(result.run!.stopReason).toBe("exit");
    expect(seen.map((s) => s.text)).toEqual(["tick 1\n", "tick 2\n", "tick 3\n", "tick 4\n", "tick 5\n"]);
    // Streamed: the ticks arrived ~100 ms apart, not all at exit.
    expect(seen.at(-1)!.at - seen[0]!.at).toBeGreaterThan(250);
    expect(result.output).toBe("tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n");
    expect(records[0]).toBe("attached_probes");
    expect(result.map("@i")!.entries[0]!.value).toBe(5);
  });

  it("returns the maps when the caller interrupts, and the host stays usable", async () => {
    const controller = new AbortController();
    const result = await runBpftrace(guest, "profile:hz:99 { @samples = count(); }", {
      signal: controller.signal,
      onRecord: (r) => {
        if (r.type === "attached_probes") setTimeout(() => controller.abort(), 800);
      },
    });
    expect(result.run!.stopReason).toBe("interrupted");
    expect(result.map("@samples")!.entries[0]!.value as number).toBeGreaterThan(0);
    const again = await runBpftrace(guest, "BEGIN { @ok = 1; exit(); }");
    expect(again.map("@ok")!.entries[0]!.value).toBe(1);
  });

  it("returns an empty result when interrupted before bpftrace attaches", async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await runBpftrace(guest, "profile:hz:99 { @samples = count(); }", { signal: controller.signal });
    expect(result.run!.stopReason).toBe("interrupted");
    expect(result.maps).toEqual([]);
  });

  it("passes positional parameters and supports both call forms and tagged templates", async () => {
    const viaArgs = await runBpftrace(guest, 'BEGIN { printf("%s %d\\n", str($1), $2); exit(); }', { args: ["-x", 7] });
    expect(viaArgs.output).toBe("-x 7\n");
    const name = "tagged";
    const tagged = await bpftraceTag(guest)`BEGIN { printf("${name}\n"); @n = ${41 + 1}; exit(); }`;
    expect(tagged.output).toBe("tagged\n");
    expect(tagged.map("@n")!.entries[0]!.value).toBe(42);
    const both = await bpftrace(guest, "BEGIN { @s = stats(4); exit(); }", {});
    expect(both.map("@s")!.entries[0]!.value).toEqual({ count: 1, average: 4, total: 4 });
  });

  it("reports a syntax error against the program, with line and column", async () => {
    const program = "BEGIN {\n  @x = count(\n}";
    const error = await runBpftrace(guest, program).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BpftraceProgramError);
    const e = error as BpftraceProgramError;
    expect(e.message).toMatch(/^bpftrace: syntax error, .* \(line 3, column 1\)$/);
    expect(e.detail).toContain("3 | }\n  | ^");
    expect(e.diagnostics[0]!.line).toBe(3);
  });

  it("rejects an empty program before running anything", async () => {
    await expect(runBpftrace(guest, "  ")).rejects.toThrow(/program is empty/);
  });
});

/**
 * perf on the host, for real: as root, `perf record -a -g` samples cpu-clock here. The
 * permission failure is produced for real too, by running perf as an unprivileged user.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execaSync } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { ToolError } from "../../lib/errors/index.js";
import { PerfPermissionError, collapsePerfData, recordPerfOnHost } from "../../lib/perf/index.js";
import { hostHasPerf } from "../support/host-guest.js";

const dir = mkdtempSync(join(tmpdir(), "kbook-perf-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hostHasPerf())("perf record on the host", () => {
  it("profiles dd, with stacks, and keeps perf.data when asked", async () => {
    const data = join(dir, "dd.data");
    const profile = await recordPerfOnHost({
      command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=2000"],
      frequency: 999,
      keepData: data,
    });
    expect(profile.samples).toBeGreaterThan(10);
    expect(profile.info.source).toMatch(/^host: perf record -F 999 -a -g -- dd/);
    expect(profile.info.event).toMatch(/cpu-clock|cycles/);
    const folded = profile.folded();
    expect(folded).toMatch(/^dd;/m);
    // Call chains came back: some dd stack is deeper than the process frame and one function.
    expect(folded.split("\n").some((l) => l.startsWith("dd;") && l.split(";").length > 3)).toBe(true);
    const top = profile.top(5);
    expect(top.length).toBeGreaterThan(0);
    expect(top[0]!.self).toBeGreaterThan(0);
    expect(profile.svg()).toContain("<svg");
    // The kept perf.data gives the same stacks through perf script.
    expect(existsSync(data)).toBe(true);
    const again = await collapsePerfData(data, { all: true });
    expect(again.folded.toString()).toBe(folded);
    // Kernel frames are annotated, and drawn in the kernel colour (orange: blue component 0).
    expect(folded).toMatch(/_\[k\]/);
    const kernelFills = [...profile.svg().matchAll(/<title>([^<]*)<\/title><rect [^>]*fill="([^"]+)"/g)]
      .filter((m) => /^(entry_SYSCALL|do_syscall_64|__x64_sys)/.test(m[1]!))
      .map((m) => m[2]);
    expect(kernelFills.length).toBeGreaterThan(0);
    for (const fill of kernelFills) expect(fill).toMatch(/^rgb\(\d+,\d+,0\)$/);
    expect(profile.top(20).some((r) => r.name.endsWith("_[k]"))).toBe(false);
  }, 60_000);

  it("samples the whole system for a duration when there is no command", async () => {
    const started = Date.now();
    const profile = await recordPerfOnHost({ duration: "1s", frequency: 499 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(profile.samples).toBeGreaterThan(0);
    expect(profile.info.source).toContain("sleep 1");
  }, 60_000);

  it("an abort stops the recording like Ctrl-C and still returns the samples", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const started = Date.now();
    const profile = await recordPerfOnHost({ command: "while :; do :; done", signal: controller.signal, frequency: 999 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(profile.folded()).toMatch(/^sh;/m);
  }, 60_000);

  it("a permission failure names perf_event_paranoid and kptr_restrict and the fix", async () => {
    // Not root: with perf_event_paranoid >= 1 (2 here), system-wide recording is refused.
    const paranoid = Number(execaSync("cat", ["/proc/sys/kernel/perf_event_paranoid"]).stdout);
    if (paranoid < 1) return;
    const wrapper = join(dir, "perf-as-nobody");
    writeFileSync(wrapper, `#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups perf "$@"\n`);
    chmodSync(wrapper, 0o755);
    chmodSync(dir, 0o777);
    const error = await recordPerfOnHost({ perf: wrapper, command: ["true"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PerfPermissionError);
    const text = (error as PerfPermissionError).describe();
    expect(text).toContain("perf_event_paranoid");
    expect(text).toContain("kptr_restrict");
    expect(text).toMatch(/sysctl -w kernel.perf_event_paranoid=-1/);
  }, 60_000);

  it("a missing perf binary says perf is not installed", async () => {
    const error = await recordPerfOnHost({ perf: join(dir, "no-such-perf"), command: ["true"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).message).toMatch(/perf is not installed on the host/);
  });
});

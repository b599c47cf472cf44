import { describe, expect, it } from "vitest";
import { decideAccel } from "../../lib/system/accel.js";
import { sysctlAdvice } from "../../lib/system/doctor.js";

describe("decideAccel", () => {
  it("uses KVM only when /dev/kvm opens and the CPU has vmx or svm", () => {
    expect(decideAccel({ kvmOpens: true, cpuFlags: ["fpu", "vmx"] }).accel).toBe("kvm");
    expect(decideAccel({ kvmOpens: true, cpuFlags: ["svm"] }).accel).toBe("kvm");
  });
  it("falls back to TCG on a nested host whose /dev/kvm opens without vmx/svm, and says why", () => {
    const d = decideAccel({ kvmOpens: true, cpuFlags: ["fpu", "sse2"] });
    expect(d.accel).toBe("tcg");
    expect(d.reason).toMatch(/opens but the CPU has no vmx\/svm/);
  });
  it("falls back to TCG without /dev/kvm", () => {
    expect(decideAccel({ kvmOpens: false, kvmError: "ENOENT", cpuFlags: ["vmx"] }).reason).toMatch(/ENOENT/);
  });
});

describe("sysctlAdvice", () => {
  it("names the sysctl and the fix the article applies", () => {
    expect(sysctlAdvice("kernel.perf_event_paranoid", "2")).toMatch(/sysctl kernel.perf_event_paranoid=-1/);
    expect(sysctlAdvice("kernel.kptr_restrict", "1")).toMatch(/sysctl kernel.kptr_restrict=0/);
    expect(sysctlAdvice("kernel.kptr_restrict", "0")).toBeUndefined();
  });
});

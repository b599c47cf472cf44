/**
 * Choosing QEMU's accelerator. Opening /dev/kvm is not enough: on a nested host without
 * vmx/svm, /dev/kvm opens and answers KVM_GET_API_VERSION, yet a stock kernel under
 * `-accel kvm` dies with "KVM internal error ... emulation failure". So KVM is chosen only when
 * the device opens read-write AND the CPU advertises hardware virtualisation.
 */
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";

export interface AccelDecision {
  accel: "kvm" | "tcg";
  reason: string;
}

/** Pure decision from the facts. */
export function decideAccel(facts: { kvmOpens: boolean; kvmError?: string; cpuFlags: string[] }): AccelDecision {
  const virt = facts.cpuFlags.includes("vmx") ? "vmx" : facts.cpuFlags.includes("svm") ? "svm" : undefined;
  if (!facts.kvmOpens) {
    return { accel: "tcg", reason: `/dev/kvm is not usable (${facts.kvmError ?? "cannot open"}), so QEMU emulates the CPU (TCG, multi-threaded)` };
  }
  if (!virt) {
    return { accel: "tcg", reason: "/dev/kvm opens but the CPU has no vmx/svm flag (nested virtualisation without hardware support), so TCG" };
  }
  return { accel: "kvm", reason: `/dev/kvm opens and the CPU has ${virt}, so KVM` };
}

let cached: Promise<AccelDecision> | undefined;

/** The accelerator for this machine (computed once per process). */
export function detectAccel(): Promise<AccelDecision> {
  cached ??= (async () => {
    let kvmOpens = false;
    let kvmError: string | undefined;
    try {
      await access("/dev/kvm", constants.R_OK | constants.W_OK);
      kvmOpens = true;
    } catch (error) {
      kvmError = (error as NodeJS.ErrnoException).code ?? String(error);
    }
    const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
    const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
    return decideAccel({ kvmOpens, kvmError, cpuFlags: flags });
  })();
  return cached;
}

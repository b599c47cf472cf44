/**
 * The notebook's current VM: the one the guest magics (%%sh, %%bpftrace, %%perf, %%gdb) use when
 * no --vm is given. It is the VM a cell booted last (`await bootVm(…)` from "kbook": the kernel
 * hands cells a bootVm that records what it returns) or, when there is none, the default VM,
 * booted by the first magic that needs it, with a progress display.
 */
import type { Guest } from "../../lib/guest/index.js";
import type { ProgressListener } from "../../lib/progress/index.js";

/** What the magics need from a VM: the Guest contract plus the VM class's convenience methods. */
export type KernelVm = Guest & {
  readonly running?: boolean;
  bpftrace?(
    program: string,
    options: { duration?: number; signal?: AbortSignal; onPrintf?: (text: string) => void; onProgress?: ProgressListener },
  ): Promise<unknown>;
  perf?: {
    record(options: {
      command: string;
      frequency?: number;
      allCpus?: boolean;
      callGraph?: boolean;
      signal?: AbortSignal;
      onProgress?: ProgressListener;
    }): Promise<unknown>;
  };
  gdb?(): GdbSessionLike | Promise<GdbSessionLike>;
};

export interface GdbSessionLike {
  command(text: string): Promise<string>;
}

type BootVm = (options?: { onProgress?: ProgressListener; signal?: AbortSignal }) => Promise<unknown>;

export class CurrentVm {
  private vm?: KernelVm;
  private booting?: Promise<KernelVm>;
  /** Every VM booted through the kernel, shut down with it. */
  private readonly booted = new Set<KernelVm>();

  set(vm: unknown): void {
    if (!isVm(vm)) return;
    this.vm = vm;
    this.booted.add(vm);
  }

  /** Shuts down the VMs the notebook booted (kernel shutdown): no QEMU outlives its kernel. */
  async shutdownAll(timeoutMs = 20_000): Promise<void> {
    const stops = [...this.booted].map((vm) => (vm as { shutdown?: () => Promise<void> }).shutdown?.().catch(() => undefined));
    this.booted.clear();
    this.vm = undefined;
    await Promise.race([Promise.all(stops), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  /** The current VM while it runs. */
  get(): KernelVm | undefined {
    if (this.vm && this.vm.running === false) this.vm = undefined;
    return this.vm;
  }

  /** The current VM, or the default VM booted now (one boot even if several magics ask). */
  async getOrBoot(onProgress: ProgressListener, signal: AbortSignal): Promise<KernelVm> {
    const vm = this.get();
    if (vm) return vm;
    this.booting ??= (async () => {
      try {
        const { bootVm } = (await import("../../lib/boot/index.js")) as { bootVm: BootVm };
        const booted = await bootVm({ onProgress, signal });
        this.set(booted);
        return this.vm!;
      } finally {
        this.booting = undefined;
      }
    })();
    return this.booting;
  }

  /** What cells get for `import … from "kbook"`: the same API, with a bootVm that records its VM. */
  wrapKbookModule(namespace: object): object {
    const api = namespace as { bootVm?: (...args: unknown[]) => Promise<unknown> };
    if (typeof api.bootVm !== "function") return namespace;
    const original = api.bootVm;
    const bootVm = async (...args: unknown[]) => {
      const vm = await original(...args);
      this.set(vm);
      return vm;
    };
    return Object.freeze({ ...namespace, bootVm });
  }
}

export function isVm(value: unknown): value is KernelVm {
  return typeof value === "object" && value !== null && typeof (value as Guest).exec === "function";
}

/**
 * Starting a VM from an image it is given: plan the boot, launch QEMU under supervision, wait
 * for kbook's agent, and explain every way that can fail with a typed error carrying the
 * evidence (QEMU's stderr, the panic text, the last console lines).
 */
import { AgentClient } from "../agent/index.js";
import { formatDuration, ProgressReporter } from "../progress/index.js";
import { BootInterruptedError, BootTimeoutError, GuestPanicError, QemuExitedError } from "./errors.js";
import { decideBoot, materializeBoot, type BootDecision, type VmOptions } from "./plan.js";
import { resumeVm, saveVmState } from "./resume.js";
import { coldReason, findSavedState, removeSavedState, stateKey } from "./saved-state.js";
import { connectUnix, launchQemu, waitForListen, type QemuExit, type QemuProcess } from "./qemu-process.js";
import { Vm } from "./vm.js";
import { tail } from "../errors/index.js";

/** What ended the wait for the agent. */
type BootOutcome = "ready" | "timeout" | "exit" | "panic" | "abort";

/**
 * Boots a VM from a bootable image and waits until its agent answers (unless paused for a
 * debugger). A configuration booted before resumes from the state saved after its first boot;
 * one booted for the first time boots cold and saves that state (see resume.ts).
 */
export async function startVm(options: VmOptions, progress = new ProgressReporter(options.onProgress)): Promise<Vm> {
  options.signal?.throwIfAborted();
  const decision = await decideBoot(options);
  progress.report("plan", `${decision.accel.toUpperCase()}: ${decision.accelReason}`);
  const cold = coldReason(options);
  const key = cold ? undefined : await stateKey(decision);
  if (key) {
    const state = await findSavedState(key);
    if (state) {
      try {
        const vm = await resumeVm(decision, state, options, progress);
        if (options.signal?.aborted) {
          await vm.kill();
          throw new BootInterruptedError();
        }
        return vm;
      } catch (error) {
        if (options.signal?.aborted) throw error instanceof BootInterruptedError ? error : new BootInterruptedError();
        const why = (error as Error).message.replace(/\s*\n\s*/g, "; ");
        progress.report("resume", `warning: saved state ${key} could not be resumed (${why}); booting cold and saving a new one`);
        // Only the state that failed: another process may have replaced it meanwhile.
        const current = await findSavedState(key);
        if (current?.manifest.createdAt === state.manifest.createdAt) await removeSavedState(current);
      }
    } else {
      progress.report("boot", "cold boot: no saved state yet, saving one after boot");
    }
  } else {
    progress.report("boot", `cold boot: ${cold}`);
  }
  const vm = await bootCold(decision, options, progress);
  if (key && vm.running) {
    const saved = await saveVmState(vm, key, progress);
    if (saved) vm.savedStateKey = key;
  }
  if (!decision.paused) progress.report("ready", `guest up in ${formatDuration(vm.bootMs)} (kernel ${vm.info.kernelRelease})`, { done: true });
  return vm;
}

/** Boots from the first instruction. */
async function bootCold(decision: BootDecision, options: VmOptions, progress: ProgressReporter): Promise<Vm> {
  const boot = await materializeBoot(decision);
  const { plan } = boot;
  const started = Date.now();
  progress.report("boot", `starting QEMU (${plan.accel})`);
  const qemu = launchQemu(boot.argv, boot.runDir, options.onConsole);
  const vm = new Vm({ boot, qemu, started });
  const timeoutMs = options.bootTimeoutMs ?? 120_000;
  const alive = () => !qemu.exited();
  try {
    const socket = await connectUnix(plan.agentSocket, started + 10_000, alive).catch(async (error) => {
      // QEMU refused the machine before creating its sockets (a bad option, an initrd too big):
      // let its last stderr bytes arrive (stdio closes after the exit event), then say so.
      const exit = qemu.exited();
      throw exit ? await exitedDuringBoot(qemu, exit) : error;
    });
    vm.attachAgent(new AgentClient(socket, vm.agentOptions()));
    if (plan.paused) {
      // Not by connecting to it: any gdbstub connection halts the guest.
      await waitForListen(plan.gdbPort!, started + 10_000, alive);
      progress.report("paused", `CPUs held at reset; gdbstub on 127.0.0.1:${plan.gdbPort}`, { done: true });
      void vm.whenReady(timeoutMs * 10).catch(() => undefined);
      return vm;
    }
    progress.report("boot", "waiting for the guest agent");
    const outcome = await waitForAgent(vm, qemu, timeoutMs, options.signal);
    if (outcome !== "ready") {
      // A panic is seen as its line starts printing: give the rest of it a moment to arrive.
      if (qemu.console.panic) await Promise.race([qemu.exitPromise, new Promise((r) => setTimeout(r, 1000))]);
      const panic = qemu.console.panic;
      if (panic) throw new GuestPanicError(panic.reason, panic.text, { during: "boot" });
      const exit = qemu.exited();
      if (exit) throw await exitedDuringBoot(qemu, exit);
      if (outcome === "abort") throw new BootInterruptedError();
      throw new BootTimeoutError(
        `The guest did not come up within ${formatDuration(timeoutMs)}. Last console lines:`,
        timeoutMs,
        qemu.console.lastLines(40),
        "Check the kernel command line (root=, console=ttyS0) and that the kernel has the modules the image needs.",
      );
    }
    vm.bootMs = Date.now() - started;
    return vm;
  } catch (error) {
    await vm.kill();
    throw error;
  }
}

/** QEMU's own words (stderr) and the console, for a QEMU that ended before the guest was up. */
async function exitedDuringBoot(qemu: QemuProcess, exit: QemuExit): Promise<QemuExitedError> {
  // stdio closes after the exit event: let QEMU's last stderr bytes arrive first.
  await Promise.race([new Promise((r) => qemu.child.once("close", r)), new Promise((r) => setTimeout(r, 500))]);
  return new QemuExitedError(
    `QEMU exited during boot (${exit.code !== null ? `code ${exit.code}` : exit.signal}).`,
    exit,
    [tail(qemu.stderr(), 20), "console:", qemu.console.lastLines(40)].filter(Boolean).join("\n"),
  );
}

/** Waits for the agent's hello, or whichever comes first of a timeout, QEMU's exit, a panic, an abort. */
async function waitForAgent(vm: Vm, qemu: QemuProcess, timeoutMs: number, signal?: AbortSignal): Promise<BootOutcome> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race<BootOutcome>([
      vm.whenReady(timeoutMs + 5000).then(() => "ready" as const),
      new Promise<BootOutcome>((ok) => (timer = setTimeout(() => ok("timeout"), timeoutMs))),
      qemu.exitPromise.then(() => "exit" as const),
      new Promise<BootOutcome>((ok) => qemu.console.onPanic(() => ok("panic"))),
      new Promise<BootOutcome>((ok) => {
        if (signal?.aborted) return ok("abort");
        onAbort = () => ok("abort");
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } catch (error) {
    // The agent channel failed. When QEMU is going away under it (its exit event may come a
    // moment after the socket closed), the evidence decides what to say.
    await Promise.race([qemu.exitPromise, new Promise((r) => setTimeout(r, 2000))]);
    if (!qemu.exited() && !qemu.console.panic) throw error;
    return "exit";
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

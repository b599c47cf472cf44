/**
 * How a VM shows itself in a notebook: a line of state and the QEMU command line, as text and as
 * HTML made of elements every front end's sanitizer keeps (so trusted or not, it reads the same).
 */
import { escapeHtml } from "../viz/escape.js";

/** The facts a VM display shows, taken from a running Vm. */
export interface VmDisplayFacts {
  /** The image kind ("debian", "alpine", "busybox"). */
  kind: string;
  accel: string;
  /** Why that accelerator ("/dev/kvm is not there: TCG"). */
  accelReason: string;
  /** "running, up in 3.2 s", "starting", "stopped". */
  state: string;
  kernel: string;
  append: string;
  gdbPort?: number;
  commandLine: string;
}

export function renderVmDisplay(vm: VmDisplayFacts): { "text/plain": string; "text/html": string } {
  const text = [
    `VM (${vm.kind}, ${vm.accel.toUpperCase()}, ${vm.state})`,
    `kernel: ${vm.kernel}`,
    `append: ${vm.append}`,
    ...(vm.gdbPort ? [`gdbstub: 127.0.0.1:${vm.gdbPort}`] : []),
    `qemu: ${vm.commandLine}`,
  ].join("\n");
  const html =
    `<div class="kbook-vm"><b>VM</b> ${escapeHtml(vm.kind)} · ${escapeHtml(vm.accel.toUpperCase())} · ${escapeHtml(vm.state)}` +
    `<br><small>${escapeHtml(vm.accelReason)}</small><pre style="white-space:pre-wrap">${escapeHtml(vm.commandLine)}</pre></div>`;
  return { "text/plain": text, "text/html": html };
}

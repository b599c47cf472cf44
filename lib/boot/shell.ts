/**
 * `kbook boot --shell`: the guest's serial console on your terminal, through a real pty. QEMU
 * runs inside a node-pty terminal (its stdio chardev then drives a tty, as it would in a
 * terminal emulator) and kbook-init starts a root shell on ttyS0 (kbook.shell=1).
 */
import { rm } from "node:fs/promises";
import { spawn } from "node-pty";
import { supervisedArgv } from "../vm/index.js";
import { prepareBoot, type BootOptions } from "./index.js";

/** Ctrl-] detaches, as in telnet. */
const DETACH = "\x1d";

export interface ShellResult {
  /** "poweroff" when the guest ended, "detached" when the user pressed Ctrl-]. */
  reason: "poweroff" | "detached";
}

export async function attachShell(options: BootOptions, io: { input: NodeJS.ReadStream; output: NodeJS.WriteStream } = { input: process.stdin, output: process.stdout }): Promise<ShellResult> {
  const append = [options.append, "kbook.shell=1"].filter(Boolean).join(" ");
  const boot = await prepareBoot({ ...options, append });
  const [file, args] = supervisedArgv(boot.argv);
  const term = spawn(file, args, {
    name: process.env.TERM ?? "xterm-256color",
    cols: io.output.columns ?? 120,
    rows: io.output.rows ?? 40,
    env: process.env as Record<string, string>,
  });
  io.output.write(`kbook: QEMU started (${boot.plan.accel.toUpperCase()}); press Ctrl-] to detach.\r\n`);
  let reason = "poweroff" as ShellResult["reason"];
  const wasRaw = io.input.isTTY ? io.input.isRaw : false;
  if (io.input.isTTY) io.input.setRawMode(true);
  io.input.resume();
  const onInput = (data: Buffer) => {
    const text = data.toString("utf8");
    if (text.includes(DETACH)) {
      reason = "detached";
      term.kill("SIGTERM");
      return;
    }
    term.write(text);
  };
  io.input.on("data", onInput);
  term.onData((d) => io.output.write(d));
  const onResize = () => term.resize(io.output.columns ?? 120, io.output.rows ?? 40);
  io.output.on("resize", onResize);
  await new Promise<void>((done) => term.onExit(() => done()));
  io.input.off("data", onInput);
  io.output.off("resize", onResize);
  if (io.input.isTTY) io.input.setRawMode(wasRaw);
  io.input.pause();
  await rm(boot.runDir, { recursive: true, force: true });
  io.output.write(`\r\nkbook: ${reason === "detached" ? "detached; the VM was stopped" : "the guest powered off"}.\r\n`);
  return { reason };
}

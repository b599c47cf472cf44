/**
 * Saving a booted guest and resuming it: the two halves of the saved-state cache.
 *
 * Saving (right after a cold boot's agent first answers, before any command of the caller's):
 * the guest syncs its filesystems, QMP `stop` holds the CPUs, and a non-live migration writes
 * memory and device state to a unix socket this process listens on, hashed as it arrives. While
 * QEMU is in `postmigrate` its disks are inactive (flushed, not written), so the overlay is
 * copied then as the state's disk layer, and `cont` lets the guest run on. QEMU 7.2 has no
 * `file:` migration; a socket keeps shells out of it (`exec:` would need one).
 *
 * Resuming: QEMU starts with the same machine line and `-incoming fd:3 -S` over a fresh overlay
 * on the saved disk layer; the stream is fed to it from here and hashed on the way; only when
 * the hash matches the manifest does the guest continue. Then the agent connection is made anew
 * (the client's random session numbers drop anything left from the saving host), and the agent
 * sets the guest's clock to the host's and reseeds its CRNG.
 */
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { createServer, type Server } from "node:net";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { AgentClient } from "../agent/index.js";
import { KbookError } from "../errors/index.js";
import { formatBytes, formatDuration, type ProgressReporter } from "../progress/index.js";
import { sha256File } from "../system/hash.js";
import { materializeBoot, type BootDecision } from "./plan.js";
import { connectUnix, launchQemu } from "./qemu-process.js";
import { QmpClient } from "./qmp.js";
import {
  findSavedState,
  pruneSavedStates,
  qemuVersion,
  stateFiles,
  statesDir,
  touchSavedState,
  type SavedState,
  type SavedStateManifest,
} from "./saved-state.js";
import { Vm } from "./vm.js";

/** A saved state that could not be resumed; the caller boots cold and replaces it. */
export class ResumeError extends KbookError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** QEMU's last words on stderr, as one line ("load of migration failed: Invalid argument"). */
function qemuSaid(stderr: string): string {
  const last = stderr.split("\n").map((l) => l.trim()).filter(Boolean).at(-1);
  return last ? last.replace(/^qemu-system-\w+: /, "") : "it exited";
}

/** Polls QMP until `done` says the answer is final, or the deadline passes. */
async function pollQmp<T>(qmp: QmpClient, command: string, done: (reply: T) => boolean, deadline: number, what: string): Promise<T> {
  for (;;) {
    const reply = (await qmp.execute(command)) as T;
    if (done(reply)) return reply;
    if (Date.now() > deadline) throw new KbookError(`${what} did not finish in time.`);
    await sleep(5);
  }
}

/**
 * Resumes a VM from a saved state. Any failure (a stream that does not match its hash, QEMU
 * refusing it, a guest that does not answer) ends that QEMU and throws a ResumeError.
 */
export async function resumeVm(
  decision: BootDecision,
  state: SavedState,
  options: { onConsole?: (chunk: Uint8Array) => void; timeoutMs?: number },
  progress: ProgressReporter,
): Promise<Vm> {
  const files = stateFiles(state);
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 30_000);
  const [boot, consoleLog] = await Promise.all([materializeBoot(decision, { disk: files.disk }), readFile(files.console, "utf8").catch(() => "")]);
  progress.report("resume", `resuming saved state ${state.manifest.key}`);
  const qemu = launchQemu(boot.argv, boot.runDir, options.onConsole, files.stream);
  // The boot messages of the saved boot, so that the console tail reads as after a boot.
  qemu.console.restore(consoleLog);
  const vm = new Vm({ boot, qemu, started, resumedFrom: state });
  const alive = () => !qemu.exited();
  try {
    const [qmpSocket, agentSocket] = await Promise.all([
      connectUnix(boot.plan.qmpSocket, started + 10_000, alive),
      connectUnix(boot.plan.agentSocket, started + 10_000, alive),
    ]).catch(() => {
      throw new ResumeError(`QEMU did not start from the saved state: ${qemuSaid(qemu.stderr())}`);
    });
    qmpSocket.destroy();
    vm.attachAgent(new AgentClient(agentSocket, vm.agentOptions()));
    const qmp = await vm.qmp();
    // Both the stream fed in and QEMU's load of it must be complete and right.
    const fed = qemu.incoming!.catch((error: Error) => {
      throw new ResumeError(`The saved state could not be read: ${error.message}`);
    });
    const loaded = pollQmp<{ status: string }>(qmp, "query-status", (s) => s.status !== "inmigrate", deadline, "Loading the saved state").catch(async () => {
      // QMP closes as QEMU exits; its stderr may still be on the way.
      await Promise.race([qemu.exitPromise, sleep(1000)]);
      await sleep(50);
      throw new ResumeError(`QEMU could not load the saved state: ${qemuSaid(qemu.stderr())}`);
    });
    const [stream, status] = await Promise.all([fed, loaded]);
    if (stream.sha256 !== state.manifest.state.sha256 || stream.bytes !== state.manifest.state.bytes) {
      throw new ResumeError(`The saved state's stream does not match its manifest (${formatBytes(stream.bytes)}, sha256 ${stream.sha256.slice(0, 12)}…): it is damaged.`);
    }
    if (files.disk && (await sha256File(files.disk)) !== state.manifest.disk!.sha256) {
      throw new ResumeError("The saved state's disk layer does not match its manifest: it is damaged.");
    }
    if (status.status !== "paused") throw new ResumeError(`QEMU ended the load of the saved state in state '${status.status}'.`);
    await qmp.execute("cont");
    await vm.whenReady(Math.max(1000, deadline - Date.now())).catch((error: Error) => {
      const panic = qemu.console.panic;
      throw new ResumeError(panic ? `The resumed guest panicked: ${panic.reason}` : `The resumed guest's agent did not answer: ${error.message}`);
    });
    const report = await vm.agentChannel().resumed({ timeoutMs: 10_000 });
    for (const problem of report.problems) progress.report("resume", `warning: ${problem}`);
    vm.bootMs = Date.now() - started;
    void touchSavedState(state);
    progress.report("ready", `resumed from saved state in ${formatDuration(vm.bootMs)} (kernel ${vm.info.kernelRelease})`, { done: true });
    return vm;
  } catch (error) {
    await vm.kill();
    if (error instanceof ResumeError) throw error;
    throw new ResumeError((error as Error).message, { cause: error });
  }
}

/** Receives one migration stream on a unix socket into a file, hashing it. */
function receiveStream(socketPath: string, file: string): { server: Server; done: Promise<{ bytes: number; sha256: string }> } {
  const server = createServer();
  const done = new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
    server.once("connection", (socket) => {
      server.close();
      const hash = createHash("sha256");
      let bytes = 0;
      const out = createWriteStream(file, { flags: "wx" });
      socket.on("data", (d: Buffer) => {
        hash.update(d);
        bytes += d.length;
      });
      socket.pipe(out);
      out.on("error", (error) => (socket.destroy(), reject(error)));
      socket.on("error", reject);
      out.on("finish", () => resolve({ bytes, sha256: hash.digest("hex") }));
    });
    server.once("error", reject);
  });
  done.catch(() => undefined);
  server.listen(socketPath);
  return { server, done };
}

/**
 * Saves a just-booted VM as the state for `key`: never fails the boot (a failure is one progress
 * line and nothing left behind), and leaves the guest running as it was.
 */
export async function saveVmState(vm: Vm, key: string, progress: ProgressReporter): Promise<SavedState | undefined> {
  const started = Date.now();
  const staging = join(statesDir(), `.save-${key}-${process.pid}-${Date.now()}`);
  const parts = vm.internals();
  const { boot, qemu } = parts;
  let stopped = false;
  let qmp: QmpClient | undefined;
  try {
    await mkdir(statesDir(), { recursive: true });
    // Room for the stream (at most the guest's memory, usually a tenth of it) and the disk layer.
    const need = boot.plan.memoryMb * 1024 * 1024 + 64 * 1024 * 1024;
    const fs = await statfs(statesDir());
    const free = fs.bavail * fs.bsize;
    if (free < need) {
      throw new KbookError(`${statesDir()} has ${formatBytes(free)} free; saving this guest may need up to ${formatBytes(need)}.`, {
        hint: "Free space there, or set KBOOK_CACHE to a disk with more room.",
      });
    }
    await mkdir(staging);
    // A guest that resumes must never find a half-written file: everything it wrote is on disk.
    await vm.exec(["sync"], { timeoutMs: 30_000 });
    qmp = await vm.qmp();
    const socket = join(boot.runDir, "save.sock");
    const stream = receiveStream(socket, join(staging, "vmstate"));
    // QEMU 7.2 limits migration to 32 MiB/s by default; a local file is far faster.
    await qmp.execute("migrate-set-parameters", { "max-bandwidth": Number.MAX_SAFE_INTEGER });
    await qmp.execute("stop");
    stopped = true;
    await qmp.execute("migrate", { uri: `unix:${socket}` });
    const result = await pollQmp<{ status: string; "error-desc"?: string }>(
      qmp,
      "query-migrate",
      (m) => m.status === "completed" || m.status === "failed" || m.status === "cancelled",
      Date.now() + 120_000,
      "Saving the guest",
    );
    if (result.status !== "completed") throw new KbookError(`QEMU could not save the guest: ${result["error-desc"] ?? result.status}`);
    const saved = await stream.done;
    const manifestDisk = boot.plan.disk ? { file: "disk.qcow2", bytes: 0, sha256: "" } : undefined;
    if (manifestDisk) await copyFile(boot.plan.disk!.path, join(staging, manifestDisk.file));
    await qmp.execute("cont");
    stopped = false;
    const pausedMs = Date.now() - started;
    if (manifestDisk) {
      const file = join(staging, manifestDisk.file);
      manifestDisk.sha256 = await sha256File(file);
      manifestDisk.bytes = (await stat(file)).size;
    }
    await writeFile(join(staging, "console.log"), qemu.console.lastLines(400));
    const decision = boot.decision;
    const manifest: SavedStateManifest = {
      format: 1,
      key,
      createdAt: new Date().toISOString(),
      image: { dir: decision.image.dir, kind: decision.image.kind },
      kernel: { path: decision.kernel.path, release: vm.info.kernelRelease, own: decision.kernel.own },
      memoryMb: decision.memoryMb,
      smp: decision.smp,
      accel: decision.accel,
      append: decision.append,
      qemuVersion: await qemuVersion(boot.plan.qemu),
      state: { file: "vmstate", bytes: saved.bytes, sha256: saved.sha256 },
      disk: manifestDisk,
      console: "console.log",
      bootMs: vm.bootMs,
      saveMs: pausedMs,
    };
    await writeFile(join(staging, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    // Read-only: resumes read these files and nothing ever writes them again.
    for (const file of ["vmstate", "console.log", "manifest.json", ...(manifestDisk ? [manifestDisk.file] : [])]) await chmod(join(staging, file), 0o444);
    try {
      await rename(staging, join(statesDir(), key));
    } catch (error) {
      // Another boot of the same configuration saved first: its state serves as well.
      if (!["ENOTEMPTY", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
      await rm(staging, { recursive: true, force: true });
    }
    const state = await findSavedState(key);
    progress.report("save", `saved the booted guest (${formatBytes(manifest.state.bytes + (manifestDisk?.bytes ?? 0))}) in ${formatDuration(pausedMs)}; later boots resume from it`);
    for (const pruned of await pruneSavedStates(key)) progress.report("save", `removed the least recently used saved state ${pruned.manifest.key} (${formatBytes(pruned.bytes)})`);
    return state;
  } catch (error) {
    if (stopped && qmp) await qmp.execute("cont").catch(() => undefined);
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    const e = error as NodeJS.ErrnoException & { hint?: string };
    const why = e.code === "ENOSPC" ? `the disk under ${statesDir()} is full (a state needs up to ${formatBytes(boot.plan.memoryMb * 1024 * 1024)})` : e.message;
    const hint = e.hint ? ` (${e.hint.replace(/\.$/, "")})` : "";
    progress.report("save", `warning: could not save the booted guest: ${why.replace(/\.$/, "")}${hint}; the next boot boots cold too`);
    return undefined;
  }
}

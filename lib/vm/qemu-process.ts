/**
 * Supervising QEMU: started so that it can never outlive kbook, its console and stderr kept for
 * error reports, its exit observed, and its run directory removed however kbook ends. Also the
 * small socket facts a boot waits on (a unix socket to connect, a TCP port that listens).
 */
import { execa, type ResultPromise } from "execa";
import { createHash } from "node:crypto";
import { readFile, readdir, rm } from "node:fs/promises";
import { createReadStream, rmSync } from "node:fs";
import type { Writable } from "node:stream";
import { createServer, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsoleMonitor } from "./console.js";
import { isAlive } from "../system/process.js";
import { ToolError } from "../errors/index.js";

export interface QemuExit {
  code: number | null;
  signal: string | null;
}

/** A QEMU process kbook started, with what it printed. */
export interface QemuProcess {
  child: ResultPromise;
  console: ConsoleMonitor;
  exitPromise: Promise<QemuExit>;
  exited(): QemuExit | undefined;
  /** The last 20 kB QEMU wrote to stderr. */
  stderr(): string;
  /** Forgets the process and removes its run directory (after it has ended). */
  cleanup(): Promise<void>;
  /** With an incoming state: resolves once all of it was handed to QEMU, with its sha256. */
  incoming?: Promise<{ bytes: number; sha256: string }>;
}

const live = new Set<{ pid?: number; runDir: string }>();
process.on("exit", () => {
  // Synchronous last resort on a normal exit; a killed parent is covered by PR_SET_PDEATHSIG.
  for (const entry of live) {
    if (entry.pid) {
      try {
        process.kill(entry.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    rmSync(entry.runDir, { recursive: true, force: true });
  }
});

/**
 * Run directories of VMs whose kbook process died without cleaning up (SIGKILL, a crash): their
 * QEMU died with it (PR_SET_PDEATHSIG), so only the directory is left to remove.
 */
export async function removeStaleRunDirs(): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith("kbook-vm-")) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, "owner.pid"), "utf8").catch(() => "0"));
    if (owner && !isAlive(owner)) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The argv that starts QEMU so it dies with its parent: PR_SET_PDEATHSIG (through util-linux's
 * setpriv) makes the kernel send SIGKILL to QEMU when kbook's process ends in any way, even by
 * SIGKILL, when no JavaScript cleanup can run.
 */
export function supervisedArgv(argv: readonly string[]): [string, string[]] {
  return ["setpriv", ["--pdeathsig", "KILL", "--", ...argv]];
}

/**
 * Starts QEMU from a planned argv, under PR_SET_PDEATHSIG, reading its console. With `incoming`
 * (a saved state's stream file) QEMU reads the stream on its fd 3 (`-incoming fd:3`), fed from
 * here so that its sha256 is computed on the way, with no second read of the file.
 */
export function launchQemu(argv: readonly string[], runDir: string, onConsole?: (chunk: Uint8Array) => void, incoming?: string): QemuProcess {
  const consoleMonitor = new ConsoleMonitor();
  const [file, args] = supervisedArgv(argv);
  let child: ResultPromise<{ stdin: "pipe"; stdout: "pipe"; stderr: "pipe"; reject: false; buffer: false }>;
  try {
    // fd 3 carries data into QEMU; execa's types take an extra pipe for one QEMU writes.
    child = execa(file, args, { stdio: ["pipe", "pipe", "pipe", incoming ? "pipe" : "ignore"], reject: false, buffer: false }) as unknown as typeof child;
  } catch (error) {
    void rm(runDir, { recursive: true, force: true });
    throw new ToolError("qemu", `Could not start QEMU: ${(error as Error).message}`, { hint: "Run 'kbook doctor --install'." });
  }
  const entry = { pid: child.pid, runDir };
  live.add(entry);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  child.stdout.on("data", (d: Buffer) => {
    consoleMonitor.feed(d);
    onConsole?.(d);
  });
  let exited: QemuExit | undefined;
  const exitPromise = new Promise<QemuExit>((ok) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      ok(exited);
    });
  });
  void child.catch(() => undefined);
  const stream = incoming ? feedIncoming(incoming, child.stdio[3] as unknown as Writable) : undefined;
  stream?.catch(() => undefined);
  return {
    incoming: stream,
    child,
    console: consoleMonitor,
    exitPromise,
    exited: () => exited,
    stderr: () => stderr,
    cleanup: async () => {
      live.delete(entry);
      await rm(runDir, { recursive: true, force: true });
    },
  };
}

/** Copies a state file into QEMU's fd 3, hashing it on the way. */
async function feedIncoming(path: string, into: Writable): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  into.on("error", () => undefined);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const data = chunk as Buffer;
    hash.update(data);
    bytes += data.length;
    if (!into.write(data)) {
      await new Promise<void>((resolve, reject) => {
        const done = (error?: Error) => {
          into.off("drain", done);
          into.off("close", closed);
          if (error) reject(error);
          else resolve();
        };
        const closed = () => done(new Error("QEMU closed its incoming stream"));
        into.on("drain", done);
        into.on("close", closed);
      });
    }
  }
  await new Promise<void>((resolve) => into.end(resolve));
  return { bytes, sha256: hash.digest("hex") };
}

/** True when something listens on 127.0.0.1:port, from /proc/net/tcp (state 0A = LISTEN). Pure. */
export function listensOn(procNetTcp: string, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return procNetTcp.split("\n").some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1] === `0100007F:${hexPort}` && f[3] === "0A";
  });
}

/** Waits until 127.0.0.1:port listens, without connecting (a gdbstub connection halts the guest). */
export async function waitForListen(port: number, deadline: number, alive: () => boolean): Promise<void> {
  while (alive() && Date.now() < deadline) {
    if (listensOn(await readFile("/proc/net/tcp", "utf8").catch(() => ""), port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A free TCP port on 127.0.0.1 (bound and released; QEMU binds it right after). */
export async function freeLocalPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Connects to a unix socket QEMU creates, retrying until it exists or QEMU is gone. */
export async function connectUnix(path: string, deadline: number, alive: () => boolean): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((ok, fail) => {
        const s = connect(path);
        s.once("connect", () => ok(s));
        s.once("error", fail);
      });
    } catch (error) {
      if (!alive() || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

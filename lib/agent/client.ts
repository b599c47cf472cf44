/**
 * AgentClient: the host end of kbook's command channel into a guest. It speaks to the guest
 * agent (assets/guest/agent.c, installed as /sbin/kbook-agent) over any Duplex stream: in a VM
 * a unix socket to the virtio-serial port named org.kbook.agent, in tests the agent's stdio.
 *
 * ## Wire protocol, version 1
 *
 * Both directions carry frames: a 16-byte header, then `length` payload bytes. Integers are
 * little-endian (both ends are x86-64; encoded explicitly all the same).
 *
 *     offset  size  field
 *     0       4     magic 6b 62 41 f1
 *     4       1     type (below)
 *     5       1     flags: PING_NEW_SESSION (1) on a PING, else 0
 *     6       2     check: Fletcher-16 over header bytes 0-5 and 8-15
 *     8       4     id: the command id, a ping nonce, or 0
 *     12      4     payload length, at most 1 MiB
 *
 * A string in a payload is a u32 byte length then UTF-8 bytes (no NUL: they become C strings).
 *
 * Host → agent:
 *   - PING 0x01 (id = nonce, no payload): the agent answers HELLO with the same id. With the
 *     NEW_SESSION flag (a host's handshake) it first SIGKILLs the commands of any earlier host.
 *   - EXEC 0x02 (id = a new command id): u32 flags (0), u32 argc, u32 envc, string cwd ("" =
 *     the agent's, /), argc strings, envc "KEY=VALUE" strings. The environment is the agent's
 *     with these overriding it, plus PATH and HOME when missing. argv[0] without a slash is
 *     searched in that PATH. The child runs in its own session (setsid), so its pid is also the
 *     id of a process group holding everything it starts.
 *   - STDIN 0x03: bytes for the command's stdin. STDIN_EOF 0x04: close stdin once they are
 *     written. Every command gets a pipe as stdin; the host always ends it with STDIN_EOF.
 *   - SIGNAL 0x05: u32 Linux signal number, sent to the command's process group.
 *   - RESUMED 0x06 (id = a nonce): u64 seconds and u32 nanoseconds of the host's wall clock,
 *     u32 n, then n (at most 512) random bytes. Sent once after the guest was resumed from a
 *     saved state: the agent sets CLOCK_REALTIME, credits the bytes to the kernel's input pool
 *     (RNDADDENTROPY) and reseeds the CRNG (RNDRESEEDCRNG), then answers RESUMED_ACK.
 *   STDIN, STDIN_EOF and SIGNAL for an id that already exited are ignored (they race).
 *
 * Agent → host:
 *   - HELLO 0x81: u32 protocol version, string agent version, string kernel release
 *     (`uname -r`). Sent unsolicited (id 0) when the agent starts or a host connects, and in
 *     answer to each PING.
 *   - STDOUT 0x82, STDERR 0x83: output bytes, at most 64 KiB a frame, in order per stream.
 *   - EXIT 0x84: u8 kind (0 exited, 1 killed by a signal, 2 could not start), i32 exit code |
 *     signal number | errno, string message (why it could not start). Sent once the command's
 *     process has exited and its pipes are drained, after all of its output. Background
 *     processes that outlive it are not waited for.
 *   - STDIN_ACK 0x85: u32 count of stdin bytes written to the command (or dropped, if it
 *     closed its stdin).
 *   - ERROR 0x86: UTF-8 message. With a command's id: that EXEC was refused (malformed, id in
 *     use, too many commands: the agent runs at most 128 at once, so this client queues the
 *     rest and never sends more) and no EXIT follows. With id 0: a bad frame or unknown type.
 *   - RESUMED_ACK 0x87 (id = the RESUMED's): i32 errno of setting the clock, i32 errno of the
 *     reseed (0 when done).
 *
 * Handshake. Bytes sent before the guest opens its port can be lost, and stale bytes from an
 * earlier session can arrive first: a partial header left over may swallow the next frames as
 * its payload. So the host sends PING (nonce != 0) every 100 ms until a HELLO answers one; only
 * then are its frames known to arrive in sync (the unsolicited HELLO proves only that the agent
 * runs). Handshake pings carry NEW_SESSION: a host that disconnects and reconnects quickly
 * may never be seen gone by the agent (it finds the port connected again), so the new host says
 * so and the old host's commands are ended. All handshake pings precede the host's first EXEC,
 * so none of its own commands can be hit. Sessions are told apart by their numbers: each client
 * starts its ping nonces and command ids at random 32-bit values and accepts as its handshake
 * only a HELLO that answers a nonce it sent. A guest resumed from a saved state can hold bytes
 * the agent wrote to the host that saved it (a HELLO for that host's ping 1, say); they are
 * dropped here instead of being taken for the new session's answer. Both ends resynchronise: a reader that meets a bad magic, a bad check or a too-large
 * length skips ahead to the next valid header and reports the loss once (the agent with an
 * ERROR frame, this client through `onProtocolError`). Payloads carry no checksum:
 * virtio-serial loses bytes only while a side is not connected, it does not corrupt them. A bad
 * frame never stops the agent.
 *
 * Flow control. The agent reads command output only while less than 1 MiB waits to be written
 * to the port, so a slow host makes commands block in write() rather than lose output or grow
 * the agent without bound. The host keeps at most 1 MiB of unacknowledged stdin per command
 * (STDIN_ACK returns credit), so a command that reads slowly cannot fill the agent's memory and
 * cannot stall other commands on the shared port.
 *
 * Lifetime. When the host disconnects, the agent SIGKILLs its commands' process groups, drops
 * what it buffered and waits for the next host. With --stdio, EOF on stdin ends the agent.
 */
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type { GuestExecOptions, GuestExecResult } from "../guest/index.js";
import { UsageError } from "../errors/index.js";
import { AgentError, describeCommand } from "./errors.js";
import { copyIntoGuest, copyOutOfGuest } from "./copy.js";
import { CommandRun, type CommandChannel } from "./run.js";
import {
  FrameDecoder,
  FrameType,
  AGENT_MAX_COMMANDS,
  MAX_PAYLOAD,
  PING_NEW_SESSION,
  PROTOCOL_VERSION,
  decodeHello,
  decodeResumedAck,
  encodeExecRequest,
  encodeResumed,
  encodeFrame,
  type Frame,
} from "./protocol.js";

export interface AgentClientOptions {
  /**
   * Why the guest cannot answer right now (e.g. "the guest is stopped in gdb"), or null. Asked
   * when a call times out: the error then names the reason instead of waiting longer.
   */
  describeStall?: () => string | null;
  /** Bad frames and agent-side error reports; the channel keeps going after them. */
  onProtocolError?: (message: string) => void;
  /**
   * While calls are outstanding the client pings the agent every second; when nothing at all
   * has come back for this long, the calls fail as unanswered (default 8000 ms). Time the guest
   * is known to be stopped (describeStall) does not count.
   */
  livenessTimeoutMs?: number;
  /** What to say of the guest when it stops answering (its console tail), for the error. */
  describeUnresponsive?: () => string;
}

/** The guest stopped answering while calls were outstanding (see AgentClientOptions.livenessTimeoutMs). */
export class AgentUnresponsiveError extends AgentError {}

export interface AgentHello {
  /** The agent's version, with the hash of the source it was built from. */
  version: string;
  /** `uname -r` in the guest. */
  kernelRelease: string;
}

interface HelloWaiter {
  accepts(id: number): boolean;
  resolve(hello: AgentHello): void;
  reject(error: Error): void;
}

const PING_INTERVAL_MS = 100;
/** Commands allowed to wait for a turn; past this many, exec refuses (a runaway loop). */
const MAX_QUEUED = 100_000;
/** How often an outstanding call checks that the agent still answers. */
const LIVENESS_PING_MS = 1000;

/** A random non-zero 32-bit number: where a session's nonces and command ids start. */
function sessionStart(): number {
  return (randomBytes(4).readUInt32LE(0) % 0xfffffffe) + 1;
}

/** What the agent reports after a resume (see AgentClient.resumed). */
export interface ResumeReport {
  /** The guest's clock was set to the host's. */
  clockSet: boolean;
  /** The guest's CRNG was reseeded with host random bytes. */
  reseeded: boolean;
  /** What went wrong, when something did. */
  problems: string[];
}

export class AgentClient {
  private readonly decoder: FrameDecoder;
  private readonly runs = new Map<number, CommandRun>();
  /** Commands waiting for the agent to have room, in call order. */
  private readonly queue: CommandRun[] = [];
  /** Ids of commands the agent holds (sent, and no EXIT or refusal back yet). */
  private readonly inFlight = new Set<number>();
  private readonly helloWaiters = new Set<HelloWaiter>();
  private readonly writeWaiters: (() => void)[] = [];
  private agentHello: AgentHello | undefined;
  /** The agent has answered one of our pings, so what we send now reaches it whole. */
  private synced = false;
  private failure: AgentError | undefined;
  private nextId = sessionStart();
  private nextNonce = sessionStart();
  /** Nonces of this session's pings: only a HELLO answering one of them completes a handshake. */
  private readonly sentNonces = new Set<number>();
  private readonly resumeWaiters = new Map<number, { resolve: (r: ResumeReport) => void; reject: (e: Error) => void }>();
  /** The most recent protocol errors (bad frames, agent error reports), newest last. */
  readonly protocolErrors: string[] = [];

  constructor(
    private readonly stream: Duplex,
    private readonly options: AgentClientOptions = {},
  ) {
    this.decoder = new FrameDecoder({
      onFrame: (frame) => {
        this.lastHeard = performance.now();
        this.route(frame);
      },
      onError: (m) => this.protocolError(m),
    });
    stream.on("data", (chunk: Buffer) => this.decoder.push(chunk));
    stream.on("drain", () => this.wakeWriters());
    stream.on("end", () => this.channelClosed("the guest agent closed it"));
    stream.on("close", () => this.channelClosed("the stream closed"));
    stream.on("error", (error: Error) => this.channelClosed(`stream error: ${error.message}`));
  }

  /** The agent's HELLO, once it has answered. */
  get hello(): AgentHello | undefined {
    return this.agentHello;
  }

  /**
   * Waits until the agent answers a ping, pinging every 100 ms until then. Its unsolicited
   * HELLO is not enough: only an answer to a ping shows that our frames reach it in sync (not
   * swallowed by a partial frame left from before it listened).
   */
  waitReady(options: { timeoutMs?: number } = {}): Promise<AgentHello> {
    if (this.synced && !this.failure) return Promise.resolve(this.agentHello!);
    return this.awaitHello(options.timeoutMs ?? 30_000, (id) => this.sentNonces.has(id), !this.synced);
  }

  /** One PING/HELLO round trip; resolves with its duration in ms. */
  async ping(options: { timeoutMs?: number } = {}): Promise<number> {
    const started = performance.now();
    const nonce = this.allocateNonce();
    await this.awaitHello(options.timeoutMs ?? 5000, (id) => id === nonce, false, false, nonce);
    return performance.now() - started;
  }

  /**
   * Tells the agent its guest was just resumed from a saved state: it sets the guest's wall
   * clock to the host's and reseeds the guest's CRNG with 64 random bytes from the host.
   */
  async resumed(options: { timeoutMs?: number } = {}): Promise<ResumeReport> {
    if (!this.synced) await this.waitReady();
    if (this.failure) throw this.failure;
    const nonce = this.allocateNonce();
    const report = new Promise<ResumeReport>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.resumeWaiters.delete(nonce);
        reject(this.notAnswering(options.timeoutMs ?? 5000));
      }, options.timeoutMs ?? 5000);
      this.resumeWaiters.set(nonce, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
    const now = Date.now();
    const nanoseconds = (now % 1000) * 1_000_000;
    this.send(FrameType.Resumed, nonce, encodeResumed({ seconds: Math.floor(now / 1000), nanoseconds }, randomBytes(64)));
    return report;
  }

  /**
   * Runs argv directly, or a string as `/bin/sh -c script`. Beyond the agent's limit of commands
   * at once, commands wait here in call order (their timeout and abort signal count from the
   * call; one that ends while waiting never starts).
   */
  async exec(command: readonly string[] | string, options: GuestExecOptions = {}): Promise<GuestExecResult> {
    const argv = typeof command === "string" ? ["/bin/sh", "-c", command] : [...command];
    const request = checkedExecRequest(argv, options);
    if (this.queue.length >= MAX_QUEUED) {
      throw new AgentError(`${this.queue.length} guest commands are already waiting for their turn (the agent runs ${AGENT_MAX_COMMANDS} at once).`, {
        hint: "Wait for some to finish (await them in batches) before starting more.",
      });
    }
    const id = this.allocateId();
    const run = new CommandRun(this.channel, id, argv, request, options);
    this.runs.set(id, run);
    run.arm();
    this.watchLiveness();
    if (!run.cancelled) {
      this.queue.push(run);
      if (!this.synced) {
        try {
          await this.waitReady();
        } catch (error) {
          this.dropQueued(run);
          throw error;
        }
      }
      if (this.failure) {
        this.dropQueued(run);
        throw this.failure;
      }
      this.pump();
    }
    return run.promise;
  }

  private lastHeard = performance.now();
  private livenessTimer: NodeJS.Timeout | undefined;

  /** Watches, while calls are outstanding, that the agent still answers. */
  private watchLiveness(): void {
    if (this.livenessTimer || this.failure) return;
    this.lastHeard = performance.now();
    this.livenessTimer = setInterval(() => this.checkLiveness(), LIVENESS_PING_MS);
    this.livenessTimer.unref();
  }

  private checkLiveness(): void {
    if (this.failure || (this.runs.size === 0 && this.resumeWaiters.size === 0)) {
      clearInterval(this.livenessTimer);
      this.livenessTimer = undefined;
      return;
    }
    // A guest held by gdb cannot answer, and is known not to: that is not a hang.
    if (this.options.describeStall?.()) this.lastHeard = performance.now();
    const silentMs = performance.now() - this.lastHeard;
    if (silentMs > (this.options.livenessTimeoutMs ?? 8000)) return this.unresponsive(silentMs);
    if (this.synced) this.send(FrameType.Ping, this.allocateNonce());
  }

  /** Fails every outstanding call: the guest has said nothing for too long. */
  private unresponsive(silentMs: number): void {
    const seconds = (silentMs / 1000).toFixed(1);
    const about = this.options.describeUnresponsive?.() ?? "";
    const hint = "The guest's kernel or its agent is hung (a module that never returns, a lockup) or the VM is paused; vm.shutdown() still ends it.";
    for (const run of [...this.runs.values()]) {
      run.abandon(
        new AgentUnresponsiveError(`The guest stopped answering: nothing came back for ${seconds} s while ${describeCommand(run.argv)} ${run.sent ? "ran" : "waited to start"}.${about ? ` ${about}` : ""}`, { hint }),
        { kill: true },
      );
    }
    for (const waiter of this.resumeWaiters.values()) waiter.reject(new AgentUnresponsiveError(`The guest stopped answering for ${seconds} s.`, { hint }));
    this.resumeWaiters.clear();
    this.lastHeard = performance.now();
    this.unansweredAt = this.lastHeard;
  }

  /** When the agent last went silent for too long, unless it has answered since. */
  private unansweredAt: number | undefined;

  /** True while the agent has not answered since the liveness check gave up on it. */
  get silent(): boolean {
    return this.unansweredAt !== undefined && this.lastHeard <= this.unansweredAt;
  }

  /** How many commands run in the guest, how many wait for a turn, and the agent's limit. */
  stats(): { running: number; queued: number; limit: number } {
    return { running: this.inFlight.size, queued: this.queue.length, limit: AGENT_MAX_COMMANDS };
  }

  /** Sends queued commands while the agent has room for them. */
  private pump(): void {
    if (!this.synced || this.failure) return;
    while (this.inFlight.size < AGENT_MAX_COMMANDS && this.queue.length) {
      const run = this.queue.shift()!;
      if (run.cancelled) continue;
      this.inFlight.add(run.id);
      run.dispatch();
    }
  }

  private dropQueued(run: CommandRun): void {
    const at = this.queue.indexOf(run);
    if (at >= 0) this.queue.splice(at, 1);
    this.runs.delete(run.id);
  }

  /** The agent is done with a command (its EXIT, or its refusal): its slot is free again. */
  private released(id: number): void {
    if (this.inFlight.delete(id)) queueMicrotask(() => this.pump());
  }

  /** Copies a host file (path) or bytes to `guestPath` (atomically: temp file, then rename). */
  copyIn(source: string | Uint8Array, guestPath: string, options: { mode?: number } = {}): Promise<void> {
    return copyIntoGuest(this, source, guestPath, options);
  }

  /** Reads a guest file; with `hostPath` it is written there too. */
  copyOut(guestPath: string, hostPath?: string): Promise<Uint8Array> {
    return copyOutOfGuest(this, guestPath, hostPath);
  }

  /** Closes the channel; pending calls reject. The agent kills commands still running. */
  close(): void {
    this.channelClosed("closed by kbook");
    this.stream.destroy();
  }

  private readonly channel: CommandChannel = {
    send: (type, id, payload) => this.send(type, id, payload),
    whenWritable: () => (this.failure ? Promise.resolve() : new Promise<void>((wake) => this.writeWaiters.push(wake))),
    stallReason: () => this.options.describeStall?.() ?? null,
    forget: (id) => {
      const run = this.runs.get(id);
      this.runs.delete(id);
      // A command that never started leaves the queue; a started one keeps its slot until
      // the agent reports its exit (it may still be running there).
      if (run?.cancelled) this.dropQueued(run);
    },
    queueState: () => this.stats(),
  };

  private send(type: number, id: number, payload?: Uint8Array, flags = 0): boolean {
    if (this.failure || this.stream.destroyed) return true;
    return this.stream.write(encodeFrame(type, id, payload, flags));
  }

  private wakeWriters(): void {
    for (const wake of this.writeWaiters.splice(0)) wake();
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.runs.has(id)) return id;
    }
  }

  /** Ping nonces are never 0: id 0 marks the agent's unsolicited HELLO. */
  private allocateNonce(): number {
    const nonce = this.nextNonce;
    this.nextNonce = nonce >= 0xffffffff ? 1 : nonce + 1;
    // Only handshake nonces are remembered, and the handshake ends: the set stays small.
    if (!this.synced) this.sentNonces.add(nonce);
    return nonce;
  }

  private awaitHello(
    timeoutMs: number,
    accepts: (id: number) => boolean,
    handshake: boolean,
    repeat = handshake,
    nonce?: number,
  ): Promise<AgentHello> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearInterval(pinger);
        clearTimeout(timer);
        this.helloWaiters.delete(waiter);
      };
      const waiter: HelloWaiter = {
        accepts,
        resolve: (hello) => (done(), resolve(hello)),
        reject: (error) => (done(), reject(error)),
      };
      this.helloWaiters.add(waiter);
      const ping = () =>
        this.send(FrameType.Ping, nonce ?? this.allocateNonce(), undefined, handshake && !this.synced ? PING_NEW_SESSION : 0);
      const pinger = repeat ? setInterval(ping, PING_INTERVAL_MS) : undefined;
      const timer = setTimeout(() => waiter.reject(this.notAnswering(timeoutMs)), timeoutMs);
      ping();
    });
  }

  private notAnswering(timeoutMs: number): AgentError {
    const stall = this.options.describeStall?.() ?? null;
    if (stall) {
      return new AgentError(`The guest agent did not answer within ${timeoutMs} ms: ${stall}.`, {
        hint: "Resume the guest (e.g. `continue` in gdb) and try again.",
      });
    }
    return new AgentError(`The guest agent did not answer within ${timeoutMs} ms.`, {
      hint: "The guest may still be booting, or /sbin/kbook-agent did not start: its console output says which.",
    });
  }

  private route(frame: Frame): void {
    try {
      if (frame.type === FrameType.Hello) return this.handleHello(frame);
      if (frame.type === FrameType.ResumedAck) return this.handleResumedAck(frame);
      if (frame.type === FrameType.Exit || (frame.type === FrameType.Error && frame.id !== 0)) this.released(frame.id);
      const run = this.runs.get(frame.id);
      switch (frame.type) {
        case FrameType.Error:
          if (run) return run.handleFrame(frame);
          return this.protocolError(`agent: ${Buffer.from(frame.payload).toString("utf8")}`);
        case FrameType.Stdout:
        case FrameType.Stderr:
        case FrameType.Exit:
        case FrameType.StdinAck:
          // Frames for a command the host gave up on (timed out, unanswered) are dropped.
          return run?.handleFrame(frame);
        default:
          return this.protocolError(`unknown frame type 0x${frame.type.toString(16)} from the agent`);
      }
    } catch (error) {
      this.protocolError(`malformed frame of type 0x${frame.type.toString(16)}: ${(error as Error).message}`);
    }
  }

  private handleHello(frame: Frame): void {
    const hello = decodeHello(frame.payload);
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      this.failure = new AgentError(
        `The guest agent speaks protocol version ${hello.protocolVersion}, this kbook speaks ${PROTOCOL_VERSION}.`,
        { hint: "The image holds a kbook-agent from another kbook version: rebuild the image." },
      );
      for (const waiter of [...this.helloWaiters]) waiter.reject(this.failure);
      return;
    }
    this.agentHello = { version: hello.version, kernelRelease: hello.kernelRelease };
    const ours = this.sentNonces.has(frame.id);
    // An answer to another session's ping (bytes from before a save) is not ours to take.
    if (frame.id !== 0 && !this.synced && !ours) return;
    for (const waiter of [...this.helloWaiters]) if (waiter.accepts(frame.id)) waiter.resolve(this.agentHello);
    if (ours) {
      this.synced = true;
      this.sentNonces.clear();
    }
  }

  private handleResumedAck(frame: Frame): void {
    const waiter = this.resumeWaiters.get(frame.id);
    if (!waiter) return;
    this.resumeWaiters.delete(frame.id);
    const { clockErrno, randomErrno } = decodeResumedAck(frame.payload);
    const problems = [
      ...(clockErrno ? [`setting the guest clock failed (errno ${clockErrno})`] : []),
      ...(randomErrno ? [`reseeding the guest's random generator failed (errno ${randomErrno})`] : []),
    ];
    waiter.resolve({ clockSet: !clockErrno, reseeded: !randomErrno, problems });
  }

  private protocolError(message: string): void {
    this.protocolErrors.push(message);
    if (this.protocolErrors.length > 50) this.protocolErrors.shift();
    this.options.onProtocolError?.(message);
  }

  private channelClosed(reason: string): void {
    if (this.failure) return;
    const hint = "The VM may have stopped or crashed; its console output says why.";
    this.failure = new AgentError(`The channel to the guest agent is closed (${reason}).`, { hint });
    for (const waiter of [...this.helloWaiters]) waiter.reject(this.failure);
    for (const waiter of this.resumeWaiters.values()) waiter.reject(this.failure);
    this.resumeWaiters.clear();
    this.queue.length = 0;
    this.inFlight.clear();
    for (const run of [...this.runs.values()]) {
      run.abandon(
        new AgentError(`The channel to the guest agent closed while ${describeCommand(run.argv)} was running (${reason}).`, { hint }),
      );
    }
    this.wakeWriters();
    clearInterval(this.livenessTimer);
    this.livenessTimer = undefined;
  }
}

/** The EXEC payload, refusing what the agent could not turn into C strings or one frame. */
function checkedExecRequest(argv: readonly string[], options: GuestExecOptions): Uint8Array {
  if (argv.length === 0) throw new UsageError("A guest command needs at least a program name.");
  const strings = [...argv, ...Object.entries(options.env ?? {}).flat(), options.cwd ?? ""];
  if (strings.some((s) => s.includes("\0"))) {
    throw new UsageError(`Guest command ${describeCommand(argv)} has a NUL byte in an argument, variable or cwd.`, {
      hint: "Arguments become C strings in the guest; pass binary data as `input` instead.",
    });
  }
  if (Object.keys(options.env ?? {}).some((key) => key === "" || key.includes("="))) {
    throw new UsageError(`Guest command ${describeCommand(argv)} has an environment variable name that is empty or contains '='.`);
  }
  const request = encodeExecRequest({ argv, env: options.env, cwd: options.cwd });
  if (request.length > MAX_PAYLOAD) {
    throw new UsageError(`Guest command ${describeCommand(argv)} is ${request.length} bytes long; at most ${MAX_PAYLOAD} fit.`, {
      hint: "Pass large data as `input` (stdin) or copy it in with copyIn().",
    });
  }
  return request;
}

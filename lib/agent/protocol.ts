/**
 * Frames of the kbook agent protocol: encoding, a streaming decoder that resynchronises after
 * garbage, and the payload codecs. The protocol itself is described at the top of client.ts;
 * the constants must match assets/guest/agent.c.
 */

export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 16;
/** Largest payload either side accepts; a header announcing more is treated as garbage. */
export const MAX_PAYLOAD = 1 << 20;
/** Commands the agent runs at once (MAX_COMMANDS in agent.c); the client queues the rest. */
export const AGENT_MAX_COMMANDS = 128;
export const FRAME_MAGIC = Uint8Array.of(0x6b, 0x62, 0x41, 0xf1);

export const FrameType = {
  Ping: 0x01,
  Exec: 0x02,
  Stdin: 0x03,
  StdinEof: 0x04,
  Signal: 0x05,
  Resumed: 0x06,
  Hello: 0x81,
  Stdout: 0x82,
  Stderr: 0x83,
  Exit: 0x84,
  StdinAck: 0x85,
  Error: 0x86,
  ResumedAck: 0x87,
} as const;

/** PING flag: sent by a host until its handshake completes, so the agent ends the commands of
 * an earlier host (it cannot always see a quick disconnect and reconnect). */
export const PING_NEW_SESSION = 0x01;

export interface Frame {
  type: number;
  /** Header flags byte (PING_NEW_SESSION); 0 for other frames. */
  flags: number;
  id: number;
  payload: Uint8Array;
}

/** Fletcher-16 over the header minus its own check field (bytes 6-7). */
export function headerCheck(header: Uint8Array): number {
  let a = 0;
  let b = 0;
  for (let i = 0; i < HEADER_SIZE; i++) {
    if (i === 6 || i === 7) continue;
    a = (a + header[i]!) % 255;
    b = (b + a) % 255;
  }
  return (b << 8) | a;
}

export function encodeFrame(type: number, id: number, payload: Uint8Array = new Uint8Array(0), flags = 0): Buffer {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frame.set(FRAME_MAGIC, 0);
  frame[4] = type;
  frame[5] = flags;
  frame.writeUInt32LE(id >>> 0, 8);
  frame.writeUInt32LE(payload.length, 12);
  frame.writeUInt16LE(headerCheck(frame), 6);
  frame.set(payload, HEADER_SIZE);
  return frame;
}

export interface FrameDecoderHandlers {
  onFrame(frame: Frame): void;
  /** Called once each time the stream loses sync (then garbage is skipped silently). */
  onError(message: string): void;
}

/**
 * Turns a byte stream into frames. Bytes that do not start a valid header (magic, check,
 * length) are skipped until one does, reporting one error per loss of sync.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private resyncing = false;

  constructor(private readonly handlers: FrameDecoderHandlers) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.buffered += chunk.length;
    this.drain();
  }

  /** Bytes held while waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private drain(): void {
    while (this.buffered > 0) {
      const head = this.flatten(Math.min(this.buffered, HEADER_SIZE));
      if (!startsWithMagic(head, Math.min(head.length, 4))) {
        const next = head.indexOf(FRAME_MAGIC[0]!, 1);
        this.lostSync("bad magic");
        this.consume(next < 0 ? head.length : next);
        continue;
      }
      if (this.buffered < HEADER_SIZE) return;
      if (head.readUInt16LE(6) !== headerCheck(head)) {
        this.lostSync("bad header check");
        this.consume(1);
        continue;
      }
      const length = head.readUInt32LE(12);
      if (length > MAX_PAYLOAD) {
        this.lostSync(`payload length ${length} too large`);
        this.consume(1);
        continue;
      }
      if (this.buffered < HEADER_SIZE + length) return;
      const frame = this.flatten(HEADER_SIZE + length);
      const type = frame[4]!;
      const flags = frame[5]!;
      const id = frame.readUInt32LE(8);
      const payload = frame.subarray(HEADER_SIZE, HEADER_SIZE + length);
      this.consume(HEADER_SIZE + length);
      this.resyncing = false;
      this.handlers.onFrame({ type, flags, id, payload });
    }
  }

  private lostSync(reason: string): void {
    if (!this.resyncing) this.handlers.onError(`bad frame (${reason}); resynchronising`);
    this.resyncing = true;
  }

  /**
   * Makes the first chunk hold at least `bytes` bytes (joining only the chunks needed) and
   * returns it; frames usually sit inside one chunk, so this rarely copies.
   */
  private flatten(bytes: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= bytes) return first;
    let total = 0;
    let count = 0;
    while (total < bytes) total += this.chunks[count++]!.length;
    const joined = Buffer.concat(this.chunks.slice(0, count), total);
    this.chunks.splice(0, count, joined);
    return joined;
  }

  /** Drops `bytes` from the front (they were consumed from the first chunk). */
  private consume(bytes: number): void {
    if (bytes === 0) return;
    const first = this.chunks[0]!;
    this.buffered -= bytes;
    if (bytes >= first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(bytes);
  }
}

function startsWithMagic(data: Uint8Array, length: number): boolean {
  for (let i = 0; i < length; i++) if (data[i] !== FRAME_MAGIC[i]) return false;
  return true;
}

// ---- payloads ---------------------------------------------------------------------------------

export interface ExecRequest {
  argv: readonly string[];
  env?: Record<string, string>;
  /** Empty: the agent's working directory (/). */
  cwd?: string;
}

/** u32 flags (0), u32 argc, u32 envc, string cwd, argc strings, envc "KEY=VALUE" strings. */
export function encodeExecRequest(request: ExecRequest): Buffer {
  const env = Object.entries(request.env ?? {}).map(([key, value]) => `${key}=${value}`);
  const strings = [request.cwd ?? "", ...request.argv, ...env].map((s) => Buffer.from(s, "utf8"));
  const head = Buffer.alloc(12);
  head.writeUInt32LE(request.argv.length, 4);
  head.writeUInt32LE(env.length, 8);
  const parts: Buffer[] = [head];
  for (const s of strings) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(s.length);
    parts.push(length, s);
  }
  return Buffer.concat(parts);
}

export interface Hello {
  protocolVersion: number;
  version: string;
  kernelRelease: string;
}

export function decodeHello(payload: Uint8Array): Hello {
  const reader = new PayloadReader(payload);
  return { protocolVersion: reader.u32(), version: reader.string(), kernelRelease: reader.string() };
}

export function encodeHello(hello: Hello): Buffer {
  return Buffer.concat([u32(hello.protocolVersion), lengthPrefixed(hello.version), lengthPrefixed(hello.kernelRelease)]);
}

export type ExitStatus =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: number }
  | { kind: "spawn-failed"; errno: number; message: string };

/** u8 kind (0 exited, 1 signaled, 2 spawn failed), i32 code/signal/errno, string message. */
export function decodeExit(payload: Uint8Array): ExitStatus {
  const reader = new PayloadReader(payload);
  const kind = reader.u8();
  const value = reader.i32();
  const message = reader.string();
  if (kind === 0) return { kind: "exited", code: value };
  if (kind === 1) return { kind: "signaled", signal: value };
  if (kind === 2) return { kind: "spawn-failed", errno: value, message };
  throw new RangeError(`unknown exit kind ${kind}`);
}

/** RESUMED payload: the host's wall clock (u64 seconds, u32 nanoseconds) and random bytes. */
export function encodeResumed(time: { seconds: number; nanoseconds: number }, entropy: Uint8Array): Buffer {
  if (entropy.length > 512) throw new RangeError("at most 512 bytes of entropy fit a RESUMED frame");
  const payload = Buffer.alloc(16 + entropy.length);
  payload.writeBigUInt64LE(BigInt(time.seconds), 0);
  payload.writeUInt32LE(time.nanoseconds, 8);
  payload.writeUInt32LE(entropy.length, 12);
  payload.set(entropy, 16);
  return payload;
}

/** RESUMED_ACK payload: the errno of setting the clock and of reseeding (0 = done). */
export function decodeResumedAck(payload: Uint8Array): { clockErrno: number; randomErrno: number } {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  if (b.length !== 8) throw new RangeError(`RESUMED_ACK of ${b.length} bytes`);
  return { clockErrno: b.readInt32LE(0), randomErrno: b.readInt32LE(4) };
}

export function encodeU32(value: number): Buffer {
  return u32(value);
}

export function decodeU32(payload: Uint8Array): number {
  if (payload.length !== 4) throw new RangeError(`expected a 4-byte payload, got ${payload.length}`);
  return new PayloadReader(payload).u32();
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  return Buffer.concat([u32(bytes.length), bytes]);
}

class PayloadReader {
  private offset = 0;
  private readonly view: Buffer;
  constructor(payload: Uint8Array) {
    this.view = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  }
  private need(n: number): void {
    if (this.offset + n > this.view.length) throw new RangeError("payload truncated");
  }
  u8(): number {
    this.need(1);
    return this.view[this.offset++]!;
  }
  u32(): number {
    this.need(4);
    const v = this.view.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.readInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  string(): string {
    const n = this.u32();
    this.need(n);
    const s = this.view.toString("utf8", this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
}

/** Linux signal numbers (x86-64 guests), independent of the host OS. */
const LINUX_SIGNALS = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
  "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",
  "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",
  "SIGIO", "SIGPWR", "SIGSYS",
] as const;

export type LinuxSignalName = (typeof LINUX_SIGNALS)[number];

export function signalNumber(name: LinuxSignalName): number {
  return LINUX_SIGNALS.indexOf(name) + 1;
}

export function signalName(signo: number): string {
  return LINUX_SIGNALS[signo - 1] ?? (signo >= 34 && signo <= 64 ? `SIGRT${signo - 34}` : `signal ${signo}`);
}

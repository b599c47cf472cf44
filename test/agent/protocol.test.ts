import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  FRAME_MAGIC,
  FrameDecoder,
  FrameType,
  HEADER_SIZE,
  MAX_PAYLOAD,
  decodeExit,
  decodeHello,
  encodeExecRequest,
  encodeFrame,
  encodeHello,
  headerCheck,
  signalName,
  signalNumber,
  type Frame,
} from "../../lib/agent/protocol.js";

function decodeAll(chunks: Uint8Array[]): { frames: Frame[]; errors: string[] } {
  const frames: Frame[] = [];
  const errors: string[] = [];
  const decoder = new FrameDecoder({
    // Copy: the decoder hands out views that stay valid, but compare plain arrays.
    onFrame: (f) => frames.push({ type: f.type, flags: f.flags, id: f.id, payload: Uint8Array.from(f.payload) }),
    onError: (m) => errors.push(m),
  });
  for (const chunk of chunks) decoder.push(chunk);
  return { frames, errors };
}

/** Cuts bytes at the given (sorted, deduplicated) offsets. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(start, p));
    start = p;
  }
  return out;
}

const frameArb = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 255 }),
  id: fc.nat({ max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 3000 }),
});

describe("frame encoding", () => {
  it("writes the documented header", () => {
    const frame = encodeFrame(FrameType.Exit, 0x01020304, Uint8Array.of(9, 8, 7), 0x01);
    expect([...frame.subarray(0, 4)]).toEqual([...FRAME_MAGIC]);
    expect(frame[4]).toBe(0x84);
    expect(frame[5]).toBe(0x01);
    expect(frame.readUInt16LE(6)).toBe(headerCheck(frame));
    expect(frame.readUInt32LE(8)).toBe(0x01020304);
    expect(frame.readUInt32LE(12)).toBe(3);
    expect([...frame.subarray(HEADER_SIZE)]).toEqual([9, 8, 7]);
  });

  it("refuses payloads over the limit", () => {
    expect(() => encodeFrame(FrameType.Stdin, 1, new Uint8Array(MAX_PAYLOAD + 1))).toThrow(RangeError);
  });

  it("round-trips any frames, however the stream is cut", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.id, f.payload, f.flags)));
        const decoded = decodeAll(split(bytes, cuts));
        expect(decoded.errors).toEqual([]);
        expect(decoded.frames).toEqual(frames);
      }),
    );
  });

  it("resynchronises after garbage, reporting each loss of sync once", () => {
    // Garbage without the magic's first byte cannot hide a header, so every frame after it
    // must come through.
    const garbageArb = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((g) => g.map((b) => (b === FRAME_MAGIC[0] ? 0 : b)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(garbageArb, fc.array(frameArb, { minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (groups, cuts) => {
          const bytes = Buffer.concat(groups.flatMap(([garbage, frames]) => [garbage, ...frames.map((f) => encodeFrame(f.type, f.id, f.payload, f.flags))]));
          const decoded = decodeAll(split(bytes, cuts));
          expect(decoded.frames).toEqual(groups.flatMap(([, frames]) => frames));
          expect(decoded.errors).toHaveLength(groups.length);
        },
      ),
    );
  });

  it("skips headers with a bad check or an oversized length, even when they start with the magic", () => {
    const good = encodeFrame(FrameType.Ping, 5);
    const badCheck = encodeFrame(FrameType.Ping, 6);
    badCheck[7] ^= 0x55;
    const tooLong = Buffer.from(encodeFrame(FrameType.Ping, 7));
    tooLong.writeUInt32LE(MAX_PAYLOAD + 1, 12);
    tooLong.writeUInt16LE(headerCheck(tooLong), 6);
    const { frames, errors } = decodeAll([Buffer.concat([badCheck, tooLong, good])]);
    expect(frames.map((f) => f.id)).toEqual([5]);
    expect(errors).toEqual([expect.stringContaining("bad header check")]);
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 500 }), { maxLength: 10 }), (chunks) => {
        decodeAll(chunks);
      }),
    );
  });
});

describe("payloads", () => {
  it("encodes an exec request as counted, length-prefixed strings", () => {
    const payload = encodeExecRequest({ argv: ["ls", "-l"], env: { A: "1" }, cwd: "/tmp" });
    const words = (o: number) => payload.readUInt32LE(o);
    expect([words(0), words(4), words(8)]).toEqual([0, 2, 1]);
    expect(payload.subarray(12).toString("latin1")).toBe("\x04\0\0\0/tmp\x02\0\0\0ls\x02\0\0\0-l\x03\0\0\0A=1");
  });

  it("round-trips hello and decodes every exit kind", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.string(), fc.string(), (protocolVersion, version, kernelRelease) => {
        expect(decodeHello(encodeHello({ protocolVersion, version, kernelRelease }))).toEqual({ protocolVersion, version, kernelRelease });
      }),
    );
    const exit = (kind: number, value: number, message = "") => {
      const text = Buffer.from(message);
      const b = Buffer.alloc(9 + text.length);
      b[0] = kind;
      b.writeInt32LE(value, 1);
      b.writeUInt32LE(text.length, 5);
      text.copy(b, 9);
      return b;
    };
    expect(decodeExit(exit(0, 3))).toEqual({ kind: "exited", code: 3 });
    expect(decodeExit(exit(1, 9))).toEqual({ kind: "signaled", signal: 9 });
    expect(decodeExit(exit(2, 2, "cannot run x"))).toEqual({ kind: "spawn-failed", errno: 2, message: "cannot run x" });
    expect(() => decodeExit(exit(0, 3).subarray(0, 4))).toThrow(RangeError);
  });

  it("maps Linux signal numbers", () => {
    expect([signalNumber("SIGINT"), signalNumber("SIGKILL"), signalNumber("SIGTERM")]).toEqual([2, 9, 15]);
    expect([signalName(2), signalName(9), signalName(15), signalName(35)]).toEqual(["SIGINT", "SIGKILL", "SIGTERM", "SIGRT1"]);
  });
});

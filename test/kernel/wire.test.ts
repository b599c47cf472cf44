import { describe, expect, test } from "vitest";
import { createHeader, decodeMessage, encodeMessage, MessageSigner, parseConnectionInfo, endpoint, WireError } from "../../kernel/protocol/wire.js";
import { createHmac } from "node:crypto";

describe("Jupyter wire format", () => {
  const signer = new MessageSigner("secret-key");
  const message = {
    identities: [Buffer.from("client-1")],
    header: createHeader("execute_request", "session-1"),
    parent_header: {},
    metadata: {},
    content: { code: "1 + 1", silent: false },
  };

  test("signs the four JSON frames with HMAC-SHA256 and round-trips", () => {
    const frames = encodeMessage(message, signer);
    expect(frames[0]!.toString()).toBe("client-1");
    expect(frames[1]!.toString()).toBe("<IDS|MSG>");
    const expected = createHmac("sha256", "secret-key").update(frames[3]!).update(frames[4]!).update(frames[5]!).update(frames[6]!).digest("hex");
    expect(frames[2]!.toString()).toBe(expected);
    const decoded = decodeMessage(frames, signer);
    expect(decoded.identities.map(String)).toEqual(["client-1"]);
    expect(decoded.header.msg_type).toBe("execute_request");
    expect(decoded.header.version).toBe("5.3");
    expect(decoded.content).toEqual({ code: "1 + 1", silent: false });
  });

  test("rejects a message signed with another key or altered after signing", () => {
    const frames = encodeMessage(message, new MessageSigner("other-key"));
    expect(() => decodeMessage(frames, signer)).toThrow(WireError);
    const tampered = encodeMessage(message, signer);
    tampered[6] = Buffer.from(JSON.stringify({ code: "process.exit()" }));
    expect(() => decodeMessage(tampered, signer)).toThrow(/signature/);
  });

  test("rejects frames without the delimiter", () => {
    expect(() => decodeMessage([Buffer.from("x"), Buffer.from("{}")], signer)).toThrow(/delimiter/);
  });

  test("an empty key means unsigned messages, as the spec allows", () => {
    const unsigned = new MessageSigner("");
    const frames = encodeMessage(message, unsigned);
    expect(frames[2]!.length).toBe(0);
    expect(decodeMessage(frames, unsigned).content.code).toBe("1 + 1");
  });

  test("reads a connection file and names endpoints", () => {
    const info = parseConnectionInfo(JSON.stringify({ shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5, key: "k", ip: "127.0.0.1", transport: "tcp" }));
    expect(endpoint(info, info.shell_port)).toBe("tcp://127.0.0.1:1");
    expect(endpoint({ ...info, transport: "ipc", ip: "/tmp/kernel" }, 7)).toBe("ipc:///tmp/kernel-7");
    expect(() => parseConnectionInfo("{}")).toThrow(/shell_port/);
  });
});

/**
 * The Jupyter wire format (messaging protocol 5.3): a message on a ZeroMQ socket is
 * `[routing ids…, "<IDS|MSG>", hmac, header, parent_header, metadata, content, buffers…]`, and the
 * HMAC-SHA256 of the four JSON frames (keyed by the connection file's `key`) is what stops another
 * local user from running code in the kernel. Pure functions: sockets live in channels.ts.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = "<IDS|MSG>";

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  [key: string]: unknown;
}

export type JsonObject = Record<string, unknown>;

export interface JupyterMessage<Content extends JsonObject = JsonObject> {
  /** ZeroMQ routing ids of the sender (ROUTER sockets); replies go back to them. */
  identities: Buffer[];
  header: MessageHeader;
  /** The header of the request this message answers, or {} for none. */
  parent_header: Partial<MessageHeader>;
  metadata: JsonObject;
  content: Content;
  buffers: Buffer[];
}

/** Signs and verifies message frames; an empty key disables signing, as the spec allows. */
export class MessageSigner {
  private readonly algorithm: string | undefined;

  constructor(
    private readonly key: string,
    scheme = "hmac-sha256",
  ) {
    if (!key) {
      this.algorithm = undefined;
      return;
    }
    const m = /^hmac-(sha\d+)$/.exec(scheme);
    if (!m) throw new Error(`Unsupported signature scheme '${scheme}' (expected hmac-sha256).`);
    this.algorithm = m[1];
  }

  sign(frames: readonly (string | Buffer)[]): string {
    if (!this.algorithm) return "";
    const hmac = createHmac(this.algorithm, this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest("hex");
  }

  verify(signature: string, frames: readonly Buffer[]): boolean {
    if (!this.algorithm) return true;
    const expected = Buffer.from(this.sign(frames), "utf8");
    const given = Buffer.from(signature, "utf8");
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

/** Raised for frames that are not a valid, correctly signed Jupyter message. */
export class WireError extends Error {}

/** Parses the frames received on a socket; throws WireError for bad framing or signature. */
export function decodeMessage(frames: readonly Buffer[], signer: MessageSigner): JupyterMessage {
  const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString("utf8") === DELIMITER);
  if (at < 0 || frames.length < at + 6) throw new WireError("Message without the <IDS|MSG> delimiter or with missing frames.");
  const signature = frames[at + 1]!.toString("utf8");
  const parts = frames.slice(at + 2, at + 6);
  if (!signer.verify(signature, parts)) throw new WireError("Message signature does not match: wrong key or tampered message.");
  const [header, parent, metadata, content] = parts.map((p) => JSON.parse(p.toString("utf8")) as JsonObject);
  return {
    identities: frames.slice(0, at) as Buffer[],
    header: header as MessageHeader,
    parent_header: (parent ?? {}) as Partial<MessageHeader>,
    metadata: metadata ?? {},
    content: content ?? {},
    buffers: frames.slice(at + 6) as Buffer[],
  };
}

/** Serializes and signs a message into frames ready for a socket. */
export function encodeMessage(message: Omit<JupyterMessage, "buffers"> & { buffers?: Buffer[] }, signer: MessageSigner): Buffer[] {
  const parts = [message.header, message.parent_header, message.metadata, message.content].map((p) => Buffer.from(JSON.stringify(p), "utf8"));
  return [...message.identities, Buffer.from(DELIMITER), Buffer.from(signer.sign(parts)), ...parts, ...(message.buffers ?? [])];
}

export function createHeader(msgType: string, session: string): MessageHeader {
  return {
    msg_id: randomUUID(),
    session,
    username: "kbook",
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

/** The connection file Jupyter writes and passes to the kernel as its argument. */
export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
}

export function parseConnectionInfo(text: string): ConnectionInfo {
  const raw = JSON.parse(text) as Partial<ConnectionInfo>;
  for (const port of ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"] as const) {
    if (typeof raw[port] !== "number") throw new Error(`Connection file has no ${port}.`);
  }
  return {
    transport: raw.transport ?? "tcp",
    ip: raw.ip ?? "127.0.0.1",
    key: raw.key ?? "",
    signature_scheme: raw.signature_scheme ?? "hmac-sha256",
    shell_port: raw.shell_port!,
    iopub_port: raw.iopub_port!,
    stdin_port: raw.stdin_port!,
    control_port: raw.control_port!,
    hb_port: raw.hb_port!,
  };
}

/** The ZeroMQ endpoint for one channel (ipc endpoints are `path-port`, as jupyter_client names them). */
export function endpoint(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

/**
 * A minimal QMP (QEMU Machine Protocol) client over the VM's unix socket: JSON lines, a
 * greeting, `qmp_capabilities`, then commands answered in order. kbook uses it to quit QEMU
 * cleanly and to ask for its status. Hand-written: QMP is JSON lines over a socket, and a
 * client library would add a dependency for what these few lines do.
 */
import { connect, type Socket } from "node:net";
import { KbookError } from "../errors/index.js";

export class QmpClient {
  private buffer = "";
  private readonly pending: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (data: string) => this.onData(data));
    socket.on("close", () => {
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(new KbookError("QMP connection closed (QEMU exited)."));
    });
    socket.on("error", () => undefined);
  }

  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const timer = setTimeout(() => (s.destroy(), reject(new KbookError(`QMP socket ${path} did not answer.`))), timeoutMs);
      s.once("connect", () => (clearTimeout(timer), resolve(s)));
      s.once("error", (e) => (clearTimeout(timer), reject(e)));
    });
    const client = new QmpClient(socket);
    // The greeting counts as the first reply; then capabilities negotiation.
    await new Promise<unknown>((resolve, reject) => client.pending.push({ resolve, reject }));
    await client.execute("qmp_capabilities");
    return client;
  }

  private onData(data: string): void {
    this.buffer += data;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if ("event" in msg) continue;
      const p = this.pending.shift();
      if (!p) continue;
      if ("error" in msg) {
        const err = msg.error as { desc?: string };
        p.reject(new KbookError(`QMP error: ${err.desc ?? JSON.stringify(err)}`));
      } else p.resolve("return" in msg ? msg.return : msg);
    }
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new KbookError("QMP connection is closed."));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + "\n");
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

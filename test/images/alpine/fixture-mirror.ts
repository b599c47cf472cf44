/**
 * A local Alpine mirror for tests: node:http on 127.0.0.1 at an ephemeral port, serving files
 * from a map with Range/If-Range support and switchable misbehaviour (dropping the connection
 * mid-file, ignoring Range, trickling bytes). Every request is recorded.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ServedFile {
  body: Buffer;
  /** Drop the connection after this many body bytes, for the next `dropTimes` requests. */
  dropAfter?: number;
  dropTimes?: number;
  /** Answer 200 with the whole file even when a Range is asked. */
  ignoreRange?: boolean;
  /** Send the body in 16 KiB pieces, this many ms apart. */
  trickleMs?: number;
}

export interface RecordedRequest {
  path: string;
  range?: string;
  ifRange?: string;
}

export class FixtureMirror {
  readonly files = new Map<string, ServedFile>();
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  base = "";

  set(path: string, body: Buffer | string, options: Omit<ServedFile, "body"> = {}): void {
    this.files.set(path, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), ...options });
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  requestsFor(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private handle(req: IncomingMessage, res: import("node:http").ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    this.requests.push({ path, range: req.headers.range, ifRange: req.headers["if-range"] as string | undefined });
    const file = this.files.get(path);
    if (!file) {
      res.writeHead(404, { "content-type": "text/html" }).end("<html><body><h1>404 Not Found</h1></body></html>");
      return;
    }
    const etag = `"${createHash("sha1").update(file.body).digest("hex").slice(0, 16)}"`;
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const ifRange = req.headers["if-range"];
    if (range && !file.ignoreRange && (!ifRange || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= file.body.length) {
        res.writeHead(416, { "content-range": `bytes */${file.body.length}` }).end();
        return;
      }
      res.writeHead(206, { etag, "content-length": file.body.length - start, "content-range": `bytes ${start}-${file.body.length - 1}/${file.body.length}` });
    } else {
      res.writeHead(200, { etag, "content-length": file.body.length });
    }
    let body = file.body.subarray(start);
    if (file.dropAfter !== undefined && (file.dropTimes ?? 1) > 0) {
      file.dropTimes = (file.dropTimes ?? 1) - 1;
      body = body.subarray(0, file.dropAfter);
      res.write(body, () => setTimeout(() => res.destroy(), 20));
      return;
    }
    if (!file.trickleMs) {
      res.end(body);
      return;
    }
    let at = 0;
    const tick = () => {
      if (res.destroyed) return;
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + 16384));
      at += 16384;
      setTimeout(tick, file.trickleMs);
    };
    tick();
  }
}

/**
 * Where a cell's outputs go: every stream chunk, display and error is published on iopub as a
 * child of the request being run, so the front end puts it under the right cell. Output written
 * after its cell finished (a timer, a background task) goes to the last cell, as in ipykernel.
 *
 * Stream text is coalesced for a few milliseconds (a loop of console.log would otherwise be
 * thousands of messages) and always flushed before any other output, so order is kept, and
 * before the reply, so everything a cell printed is published before `status: idle`.
 */
import type { JsonObject, MessageHeader } from "./protocol/wire.js";

export type Publish = (msgType: string, content: JsonObject, parent?: MessageHeader) => Promise<void>;
export type StreamName = "stdout" | "stderr";

const STREAM_COALESCE_MS = 8;
const RENDER_WAIT_MS = 30_000;

export class OutputRouter {
  private parent?: MessageHeader;
  private buffered: { name: StreamName; text: string } | undefined;
  private timer?: NodeJS.Timeout;
  private last: Promise<void> = Promise.resolve();
  /** Displays whose bundle is still being rendered (async display methods). */
  private readonly rendering = new Set<Promise<unknown>>();

  constructor(private readonly publishRaw: Publish) {}

  /** Outputs from now on belong to this request. */
  setParent(parent: MessageHeader): void {
    this.flushStreams();
    this.parent = parent;
  }

  stream(name: StreamName, text: string): void {
    if (!text) return;
    if (this.buffered && this.buffered.name !== name) this.flushStreams();
    if (this.buffered) this.buffered.text += text;
    else this.buffered = { name, text };
    this.timer ??= setTimeout(() => this.flushStreams(), STREAM_COALESCE_MS);
  }

  display(data: JsonObject, metadata: JsonObject, displayId: string | undefined, update = false): void {
    const content: JsonObject = { data, metadata, transient: displayId ? { display_id: displayId } : {} };
    this.publish(update ? "update_display_data" : "display_data", content);
  }

  executeResult(executionCount: number, data: JsonObject, metadata: JsonObject): void {
    this.publish("execute_result", { execution_count: executionCount, data, metadata });
  }

  error(content: { ename: string; evalue: string; traceback: string[] }): void {
    this.publish("error", content);
  }

  clear(wait: boolean): void {
    this.publish("clear_output", { wait });
  }

  /** Keeps `flush` waiting for an output that is still being rendered. */
  track(rendering: Promise<unknown>): void {
    this.rendering.add(rendering);
    void rendering.finally(() => this.rendering.delete(rendering)).catch(() => undefined);
  }

  /**
   * Publishes buffered stream text; resolves once everything so far is queued on iopub,
   * including displays still rendering (for at most RENDER_WAIT_MS: a display method that never
   * settles must not hold the cell forever).
   */
  async flush(): Promise<void> {
    if (this.rendering.size) {
      const wait = new Promise((resolve) => setTimeout(resolve, RENDER_WAIT_MS).unref());
      await Promise.race([Promise.allSettled([...this.rendering]), wait]);
    }
    this.flushStreams();
    return this.last;
  }

  private publish(msgType: string, content: JsonObject): void {
    this.flushStreams();
    this.last = this.publishRaw(msgType, content, this.parent);
  }

  private flushStreams(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const buffered = this.buffered;
    this.buffered = undefined;
    if (buffered) this.last = this.publishRaw("stream", { name: buffered.name, text: buffered.text }, this.parent);
  }
}

/**
 * Sends what cells write to process.stdout / process.stderr (console.log included) to the
 * router. The kernel's own diagnostics keep a reference to the real stderr write taken before
 * (the Jupyter server's log), never a cell. Child processes writing to the inherited file
 * descriptors directly bypass this, as with ipykernel.
 */
export function captureProcessOutput(router: OutputRouter): void {
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(typeof encoding === "string" ? encoding : "utf8");
      router.stream(name, text);
      const done = typeof encoding === "function" ? encoding : callback;
      if (done) queueMicrotask(() => done());
      return true;
    }) as typeof stream.write;
  }
}

/**
 * The main thread's side of the TypeScript worker: each call is a message, answered in order.
 * The main thread never loads TypeScript itself, which is what keeps the kernel's start (and its
 * first kernel_info reply) fast.
 */
import { Worker } from "node:worker_threads";
import type { CellCompilerOptions, CompileOutcome, CompletionResult } from "./cell-compiler.js";
import type { Completeness } from "./cell-source.js";

export type WorkerRequest =
  | { op: "compile"; code: string }
  | { op: "commit"; commitId: number }
  | { op: "complete"; code: string; position: number }
  | { op: "inspect"; code: string; position: number }
  | { op: "isComplete"; code: string }
  | { op: "declare"; name: string; typeText: string }
  | { op: "warm" };

export class TypeScriptWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private failure?: Error;

  constructor(options: CellCompilerOptions) {
    // A larger young generation: each cell's check allocates a new program and type checker,
    // and with V8's default the scavenges cost as much as the check itself.
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: options, resourceLimits: { maxYoungGenerationSizeMb: 96 } });
    this.worker.unref();
    this.worker.on("message", (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(`TypeScript worker: ${message.error}`));
      else waiter?.resolve(message.result);
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`The TypeScript worker exited (code ${code}).`)));
  }

  warm(): Promise<void> {
    return this.call({ op: "warm" }) as Promise<void>;
  }

  compile(code: string): Promise<CompileOutcome> {
    return this.call({ op: "compile", code }) as Promise<CompileOutcome>;
  }

  commit(commitId: number): Promise<void> {
    return this.call({ op: "commit", commitId }) as Promise<void>;
  }

  complete(code: string, position: number): Promise<CompletionResult> {
    return this.call({ op: "complete", code, position }) as Promise<CompletionResult>;
  }

  inspect(code: string, position: number): Promise<{ plain: string; markdown: string } | undefined> {
    return this.call({ op: "inspect", code, position }) as Promise<{ plain: string; markdown: string } | undefined>;
  }

  isComplete(code: string): Promise<Completeness> {
    return this.call({ op: "isComplete", code }) as Promise<Completeness>;
  }

  declareVariable(name: string, typeText: string): Promise<void> {
    return this.call({ op: "declare", name, typeText }) as Promise<void>;
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  private call(request: WorkerRequest): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, request });
    });
  }
}

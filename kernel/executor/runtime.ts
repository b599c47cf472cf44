/**
 * Runs compiled cells in the kernel's own JavaScript realm through V8's REPL mode (the inspector's
 * `Runtime.evaluate` with `replMode: true`, what Chrome's console uses): top-level `let`, `const`
 * and `class` persist from cell to cell and may be declared again when a cell is re-run, and
 * top-level `await` works. Cells share the realm with kbook's modules, so `instanceof` and
 * objects from imported packages behave as in a normal program.
 *
 * Imports were turned into `await __kbookRuntime.import(…)` by the compiler; this module
 * resolves them like the type checker did: kbook's own package first (kbook, vega, Plot…), then
 * the notebook's directory.
 */
import { Session } from "node:inspector";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { RUNTIME_GLOBAL } from "../typescript/runtime-name.js";

export type Evaluation = { ok: true; value: unknown } | { ok: false; error: unknown; terminated?: boolean };

interface RemoteObject {
  type: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
}

export type ModuleFilter = (specifier: string, namespace: object) => object;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export class ScriptRuntime {
  private readonly session = new Session();
  private slot: unknown;
  private moduleFilter: ModuleFilter = (_, ns) => ns;

  constructor(private readonly cwd: string) {
    this.session.connect();
    const requireFromNotebook = createRequire(join(cwd, "__kbook_cell__.js"));
    const runtime = {
      import: (specifier: string, options?: ImportCallOptions) => this.importModule(String(specifier), options),
      meta: {
        url: pathToFileURL(join(cwd, "__kbook_cell__.mts")).href,
        dirname: cwd,
        filename: join(cwd, "__kbook_cell__.mts"),
        resolve: (specifier: string) => (specifier.startsWith(".") ? pathToFileURL(resolve(cwd, specifier)).href : import.meta.resolve(specifier)),
      },
      take: () => {
        const value = this.slot;
        this.slot = undefined;
        return value;
      },
      keep: (value: unknown) => {
        this.slot = value;
      },
    };
    Object.defineProperty(globalThis, RUNTIME_GLOBAL, { value: runtime, enumerable: false });
    // CommonJS habits still work in cells: require() resolves from the notebook's directory.
    Object.defineProperty(globalThis, "require", { value: requireFromNotebook, enumerable: false, writable: true, configurable: true });
  }

  /** Lets the kernel wrap what `import … from "kbook"` returns (to track the VMs cells boot). */
  setModuleFilter(filter: ModuleFilter): void {
    this.moduleFilter = filter;
  }

  /** Defines globals for cells (display, clearOutput…), not enumerable so they stay out of the way. */
  defineGlobals(globals: Record<string, unknown>): void {
    for (const [name, value] of Object.entries(globals)) {
      Object.defineProperty(globalThis, name, { value, enumerable: false, writable: true, configurable: true });
    }
  }

  /**
   * Evaluates a script; settles when its top-level awaits are done. `sourceName` is what stack
   * frames call the script (kernel/executor/errors.ts maps it back to the cell).
   */
  async evaluate(script: string, sourceName: string): Promise<Evaluation> {
    let reply: { result: RemoteObject; exceptionDetails?: { exception?: RemoteObject; text: string } };
    try {
      reply = await this.post("Runtime.evaluate", {
        expression: `${script}\n//# sourceURL=${sourceName}`,
        replMode: true,
        objectGroup: "kbook-cell",
      });
    } catch (error) {
      // Runtime.terminateExecution (an interrupt of a busy loop) ends the evaluation this way.
      if (error instanceof Error && /terminated/i.test(error.message)) return { ok: false, error, terminated: true };
      throw error;
    }
    try {
      if (reply.exceptionDetails) {
        const thrown = reply.exceptionDetails.exception;
        return { ok: false, error: thrown ? await this.fetch(thrown) : new Error(reply.exceptionDetails.text) };
      }
      return { ok: true, value: await this.fetch(reply.result) };
    } finally {
      this.session.post("Runtime.releaseObjectGroup", { objectGroup: "kbook-cell" });
    }
  }

  /** Binds a top-level variable for later cells (`let NAME = value`), as a cell would. */
  async bind(name: string, value: unknown): Promise<void> {
    if (!IDENTIFIER.test(name)) throw new Error(`'${name}' is not a valid variable name.`);
    this.slot = value;
    const result = await this.evaluate(`let ${name} = ${RUNTIME_GLOBAL}.take();`, "kbook-bind");
    if (!result.ok) throw result.error;
  }

  /** Reads a top-level variable of the notebook (undefined when there is none). */
  async lookup(name: string): Promise<unknown> {
    if (!IDENTIFIER.test(name)) return undefined;
    const result = await this.evaluate(`typeof ${name} === "undefined" ? undefined : ${name}`, "kbook-lookup");
    return result.ok ? result.value : undefined;
  }

  private async importModule(specifier: string, options?: ImportCallOptions): Promise<object> {
    const load = (target: string) => (options ? import(target, options) : import(target)) as Promise<object>;
    let namespace: object;
    if (specifier.startsWith("./") || specifier.startsWith("../") || isAbsolute(specifier)) {
      namespace = await load(pathToFileURL(resolve(this.cwd, specifier)).href);
    } else if (/^[a-z]+:/.test(specifier)) {
      namespace = await load(specifier);
    } else {
      try {
        namespace = await load(specifier);
      } catch (error) {
        if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
        let resolved: string;
        try {
          resolved = createRequire(join(this.cwd, "__kbook_cell__.js")).resolve(specifier);
        } catch {
          throw error;
        }
        namespace = await load(pathToFileURL(resolved).href);
      }
    }
    return this.moduleFilter(specifier, namespace);
  }

  /** Brings an inspector RemoteObject back as the JavaScript value it stands for. */
  private async fetch(remote: RemoteObject): Promise<unknown> {
    if (remote.objectId) {
      await this.post("Runtime.callFunctionOn", {
        objectId: remote.objectId,
        functionDeclaration: `function () { "use strict"; ${RUNTIME_GLOBAL}.keep(this); }`,
      });
      const value = this.slot;
      this.slot = undefined;
      return value;
    }
    if (remote.type === "undefined") return undefined;
    if (remote.unserializableValue !== undefined) {
      const text = remote.unserializableValue;
      return text.endsWith("n") ? BigInt(text.slice(0, -1)) : Number(text);
    }
    return remote.value;
  }

  private post<T>(method: string, params: object): Promise<T> {
    return new Promise((ok, fail) => this.session.post(method, params, (error, result) => (error ? fail(error) : ok(result as T))));
  }
}

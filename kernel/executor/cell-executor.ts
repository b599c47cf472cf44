/**
 * Running one cell: a cell magic, a `name?` help request, or TypeScript (type check in the
 * worker, then evaluate). The outcome is what the kernel replies and publishes; outputs written
 * while the cell runs (streams, displays) have already gone to the router.
 *
 * An interrupt aborts the cell's AbortSignal: kbook helpers given `cellSignal()` stop their guest
 * commands, and the cell itself is abandoned at once (its reply says Interrupted) even if it
 * awaits something that ignores the signal.
 */
import { UsageError } from "../../lib/errors/index.js";
import { toMimeBundle, type RenderedBundle } from "../display/bundle.js";
import { isDisplayObject, type CellApi } from "../display/display-api.js";
import type { OutputRouter } from "../output.js";
import { CurrentVm, isVm, type KernelVm } from "../magics/current-vm.js";
import { parseMagicCell, type MagicContext, type MagicRegistry } from "../magics/registry.js";
import type { TypeScriptWorker } from "../typescript/client.js";
import { CellSourceMap } from "../typescript/source-map.js";
import { interruptedContent, thrownErrorContent, typeErrorContent, type ErrorContent, type EvaluatedCell } from "./errors.js";
import type { ScriptRuntime } from "./runtime.js";

export interface PagePayload {
  source: "page";
  data: Record<string, string>;
  start: number;
}

export type CellOutcome = { status: "ok"; result?: RenderedBundle; payload?: PagePayload[] } | { status: "error"; error: ErrorContent };

export interface CellRequest {
  code: string;
  /** How error frames name this cell, e.g. "[3]". */
  label: string;
  signal: AbortSignal;
}

const HELP_REQUEST = /^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\?{1,2}\s*$/;

export class CellExecutor {
  private readonly cells = new Map<string, EvaluatedCell>();
  private evaluations = 0;

  constructor(
    private readonly typescript: TypeScriptWorker,
    private readonly runtime: ScriptRuntime,
    private readonly magics: MagicRegistry,
    private readonly currentVm: CurrentVm,
    private readonly api: CellApi,
    private readonly router: OutputRouter,
  ) {}

  async run(request: CellRequest): Promise<CellOutcome> {
    try {
      if (!request.code.trim()) return { status: "ok" };
      if (parseMagicCell(request.code)) return await this.runMagic(request);
      const help = HELP_REQUEST.exec(request.code);
      if (help) return await this.help(help[1]!);
      return await this.runTypeScript(request);
    } catch (error) {
      return { status: "error", error: request.signal.aborted ? interruptedContent() : thrownErrorContent(error, this.cells) };
    }
  }

  private async runTypeScript(request: CellRequest): Promise<CellOutcome> {
    const compiled = await this.typescript.compile(request.code);
    if (!compiled.ok) return { status: "error", error: typeErrorContent(compiled.diagnostics, request.code) };
    const { cell } = compiled;
    // Interrupted while it was being checked: the cell does not start at all.
    if (request.signal.aborted) return { status: "error", error: interruptedContent() };
    const sourceName = `kbook-cell-${++this.evaluations}`;
    this.cells.set(sourceName, { label: request.label, code: request.code, map: new CellSourceMap(cell.mappings, cell.firstCellLine) });
    const settled = await untilAborted(this.runtime.evaluate(cell.script, sourceName), request.signal);
    // Declarations become visible to later cells once the cell ran, also when it threw or was
    // interrupted half way: what it declared before that exists.
    await this.typescript.commit(cell.commitId);
    if (settled === ABORTED) return { status: "error", error: interruptedContent() };
    if (!settled.ok) return { status: "error", error: settled.terminated ? interruptedContent() : thrownErrorContent(settled.error, this.cells) };
    if (!cell.endsWithExpression || settled.value === undefined || isDisplayObject(settled.value)) return { status: "ok" };
    return { status: "ok", result: await toMimeBundle(settled.value) };
  }

  private async runMagic(request: CellRequest): Promise<CellOutcome> {
    const invocation = parseMagicCell(request.code)!;
    const magic = this.magics.get(invocation.name);
    const parsed = this.magics.parseArguments(magic, invocation.argsText);
    const out = parsed.options.out;
    if (out !== undefined && (typeof out !== "string" || !/^[A-Za-z_$][\w$]*$/.test(out))) {
      throw new UsageError(`--out expects a variable name, got '${String(out)}'.`);
    }
    const context: MagicContext = {
      ...parsed,
      body: invocation.body,
      signal: request.signal,
      stdout: (text) => this.router.stream("stdout", text),
      stderr: (text) => this.router.stream("stderr", text),
      display: this.api.display,
      progressDisplay: this.api.progressDisplay,
      vm: () => this.magicVm(parsed.options.vm, request.signal),
    };
    const settled = await untilAborted(magic.run(context), request.signal);
    if (settled === ABORTED) return { status: "error", error: interruptedContent() };
    for (const name of ["_", ...(out ? [out] : [])]) {
      await this.runtime.bind(name, settled.value);
      await this.typescript.declareVariable(name, magic.resultType);
    }
    if (settled.failure) throw settled.failure;
    if (!settled.show || settled.value === undefined) return { status: "ok" };
    return { status: "ok", result: await toMimeBundle(settled.value) };
  }

  private async magicVm(name: string | boolean | undefined, signal: AbortSignal): Promise<KernelVm> {
    if (typeof name === "string") {
      const value = await this.runtime.lookup(name);
      if (!isVm(value)) throw new UsageError(`--vm ${name}: the notebook has no VM in a variable named '${name}'.`, { hint: "Boot one first: const vm = await bootVm()." });
      return value;
    }
    const current = this.currentVm.get();
    if (current) return current;
    const progress = this.api.progressDisplay("booting the default VM");
    const vm = await this.currentVm.getOrBoot(progress, signal);
    progress.done("ready");
    return vm;
  }

  /** `Math.max?` shows the documentation in the pager, as IPython's `name?` does. */
  private async help(expression: string): Promise<CellOutcome> {
    const info = await this.typescript.inspect(expression, expression.length);
    if (!info) {
      this.router.stream("stdout", `No documentation found for '${expression}'.\n`);
      return { status: "ok" };
    }
    return { status: "ok", payload: [{ source: "page", data: { "text/plain": info.plain, "text/markdown": info.markdown }, start: 0 }] };
  }
}

const ABORTED = Symbol("aborted");

/** Settles with the promise, or with ABORTED as soon as the signal aborts (the promise is abandoned). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * GdbSession: gdb driven through its machine interface, with typed results. It works on any
 * gdb target — QEMU's gdbstub (`targetRemote`), a process gdb starts (`run`) or one it attaches
 * to — and keeps track of whether the target runs, so a VM can say "the guest is stopped in gdb"
 * instead of hanging while a breakpoint holds its CPUs.
 */
import { GdbError, GdbTimeoutError, MiChannel, type MiCommandResult } from "./mi-channel.js";
import type { KernelSymbols } from "./symbols.js";
import { quoteMiArgument, type MiRecord, type MiTuple } from "./mi.js";
import { locationSpec, parseBreakpoint, type GdbBreakpoint, type Location } from "./breakpoint.js";
import { integerRegisters, memoryBytes } from "./memory.js";
import { readSourceExcerpt, type SourceExcerpt } from "./source.js";
import { parseVarChildren, parseVariables, parseVarObject, valueToData, type GdbValue, type GdbVariable, type VarObject } from "./values.js";

/** CLI commands that resume the target (continue, next, step, finish, until…), abbreviations included. */
const RESUME_COMMAND = /^(c|cont|continue|n|next|s|step|si|stepi|ni|nexti|fin|finish|u|until|adv|advance|fg|jump)(\s|$)/;
import {
  ARGUMENT_REGISTERS,
  formatAddress,
  isExitStop,
  parseAddress,
  parseArguments,
  parseFrame,
  parseStack,
  parseStopRecord,
  withStopDisplay,
  type GdbFrame,
  type GdbStop,
  describeStop,
} from "./stop.js";

/** idle: nothing to debug yet; exited: the process ended; detached/closed: gdb let go. */
export type GdbTargetState = "idle" | "running" | "stopped" | "exited" | "detached" | "closed";

export interface GdbSessionOptions {
  gdbPath?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Default time an MI command may take (ms); loading a large vmlinux gets its own timeout. */
  commandTimeoutMs?: number;
}

const STRING_CHUNK = 256;
const PAGE = 4096n;

export class GdbSession {
  private readonly channel: MiChannel;
  private stateValue: GdbTargetState = "idle";
  private stop: Promise<GdbStop> | undefined;
  private stopSummary: string | null = null;
  private readonly stopWaiters = new Set<(stop: Promise<GdbStop>) => void>();
  private readonly stateListeners = new Set<(state: GdbTargetState) => void>();
  private readonly outputListeners = new Set<(text: string) => void>();
  private registerNames: string[] | undefined;
  /** How the target was reached decides how close() lets go of it. */
  private ownership: "none" | "spawned" | "attached" = "none";
  /** Notes about symbols and addresses the user should know (KASLR, missing DWARF). */
  readonly warnings: string[] = [];
  /** For a guest kernel (set by connectGdb): where the symbols came from and what they offer. */
  kernelSymbols?: KernelSymbols;

  private constructor(options: GdbSessionOptions) {
    this.channel = new MiChannel({
      ...options,
      onAsync: (record) => this.onAsync(record),
      onResult: (resultClass) => {
        if (resultClass === "running") this.setState("running");
      },
      onOutput: (text) => this.outputListeners.forEach((l) => l(text)),
      onExit: (error) => {
        this.setState("closed");
        for (const waiter of this.stopWaiters) waiter(Promise.reject(error));
        this.stopWaiters.clear();
      },
    });
  }

  /** Starts gdb (`gdb --interpreter=mi3 -nx -q`) and waits until it reads commands. */
  static async start(options: GdbSessionOptions = {}): Promise<GdbSession> {
    const session = new GdbSession(options);
    try {
      await session.channel.ready();
      // Async MI: gdb keeps reading commands while the target runs, so interrupt() works.
      for (const setting of ["mi-async on", "confirm off", "pagination off", "width 0", "height 0", "print pretty off"]) {
        await session.mi(`-gdb-set ${setting}`);
      }
    } catch (error) {
      session.channel.kill();
      throw error;
    }
    return session;
  }

  get pid(): number | undefined {
    return this.channel.pid;
  }

  get state(): GdbTargetState {
    return this.stateValue;
  }

  /** True unless the target is halted by gdb (a VM's guest can run commands). */
  get running(): boolean {
    return this.stateValue !== "stopped";
  }

  /** While stopped: a sentence saying where, e.g. "stopped in gdb at do_sys_openat2 (breakpoint 1)". */
  get stoppedReason(): string | null {
    return this.stateValue === "stopped" ? this.stopSummary : null;
  }

  /** Calls `listener` on every state change; returns a function that unsubscribes. */
  onStateChange(listener: (state: GdbTargetState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Console and target output that belongs to no command (e.g. "[Switching to Thread 1.2]"). */
  onOutput(listener: (text: string) => void): () => void {
    this.outputListeners.add(listener);
    return () => this.outputListeners.delete(listener);
  }

  /** Runs a raw MI command. */
  mi(command: string, options: { timeoutMs?: number } = {}): Promise<MiCommandResult> {
    return this.channel.send(command, options);
  }

  /** Runs a gdb CLI command (as typed at the `(gdb)` prompt) and returns what it printed. */
  async command(text: string, options: { timeoutMs?: number; resumeWaitMs?: number } = {}): Promise<string> {
    const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    let output = "";
    for (const line of lines) {
      // The console interpreter runs a resume command synchronously: gdb would read nothing
      // more (not even a detach) until the target stops. Run it in the background instead and
      // wait a little for the stop it is usually meant to reach.
      const resume = RESUME_COMMAND.test(line) && !line.endsWith("&");
      const result = await this.mi(`-interpreter-exec console ${quoteMiArgument(resume ? `${line} &` : line)}`, options);
      output += result.console;
      if (resume) {
        const stop = await this.nextStop(options.resumeWaitMs ?? 10_000).catch(() => undefined);
        output += stop ? `${describeStop(stop)}\n` : "(the target is running; waitForStop() or interrupt() to stop it)\n";
      }
    }
    return output;
  }

  /** Loads an executable or a symbol file (vmlinux, or kbook's kallsyms ELF). */
  async loadFile(path: string, options: { timeoutMs?: number } = {}): Promise<void> {
    this.registerNames = undefined;
    // A vmlinux with DWARF is hundreds of MB: gdb indexes it before answering.
    await this.mi(`-file-exec-and-symbols ${quoteMiArgument(path)}`, { timeoutMs: options.timeoutMs ?? 300_000 });
  }

  /** Connects to a gdbstub (QEMU's `-gdb tcp:127.0.0.1:PORT`); the target is stopped afterwards. */
  async targetRemote(host: string, port: number, options: { connectTimeoutMs?: number } = {}): Promise<GdbStop> {
    this.registerNames = undefined;
    // gdb retries a refused connection for 15 s by default; a VM's stub listens from the start.
    const seconds = Math.max(1, Math.round((options.connectTimeoutMs ?? 5000) / 1000));
    await this.mi(`-gdb-set tcp connect-timeout ${seconds}`);
    try {
      await this.mi(`-target-select remote ${host}:${port}`, { timeoutMs: seconds * 1000 + 30_000 });
    } catch (error) {
      throw new GdbError(`-target-select remote ${host}:${port}`, `gdb could not connect to the gdbstub at ${host}:${port}.`, {
        cause: error,
        detail: error instanceof GdbError ? error.gdbMessage : undefined,
        hint: "Is the VM running with its gdbstub on (bootVm({ gdb: true }))? Only one gdb can be connected at a time.",
      });
    }
    this.ownership = "attached";
    // gdb reports the stop it finds on connecting before `^connected`, but do not depend on it.
    return this.stop ?? this.nextStop(10_000);
  }

  /** Starts the loaded executable under gdb (its output goes to /dev/null); does not wait. */
  async run(args: readonly string[] = []): Promise<void> {
    await this.mi("-inferior-tty-set /dev/null");
    await this.mi(`-exec-arguments ${args.map(quoteMiArgument).join(" ")}`);
    this.ownership = "spawned";
    await this.mi("-exec-run");
  }

  /** Attaches to a running process by pid; the process is stopped afterwards. */
  async attach(pid: number): Promise<GdbStop> {
    await this.mi(`-target-attach ${pid}`);
    this.ownership = "attached";
    // In async mode `*stopped` follows `^done`.
    return this.stop ?? this.nextStop(10_000);
  }

  /**
   * Sets a breakpoint on a function name, a linespec, or an address (number, bigint, "0x…").
   * Hardware by default, as the article does with `hbreak`: it needs no write to guest memory.
   */
  async break(location: Location, options: { hardware?: boolean; temporary?: boolean; condition?: string } = {}): Promise<GdbBreakpoint> {
    const spec = locationSpec(location);
    const flags = [options.hardware ?? true ? "-h" : "", options.temporary ? "-t" : "", options.condition ? `-c ${quoteMiArgument(options.condition)}` : ""];
    const result = await this.mi(`-break-insert ${flags.filter(Boolean).join(" ")} ${quoteMiArgument(spec)}`);
    return parseBreakpoint(result.results.bkpt, spec);
  }

  /** Deletes one breakpoint, or all of them. */
  async delete(breakpoint?: number | GdbBreakpoint): Promise<void> {
    const n = typeof breakpoint === "object" ? breakpoint.number : breakpoint;
    await this.mi(n === undefined ? "-break-delete" : `-break-delete ${n}`);
  }

  /** Resumes the target and returns at once; waitForStop() waits for the next stop. */
  async continue(): Promise<void> {
    await this.mi("-exec-continue");
  }

  /** Stops a running target (SIGINT for a process, a break packet for a gdbstub). */
  async interrupt(options: { timeoutMs?: number } = {}): Promise<GdbStop> {
    if (this.stateValue === "running") await this.mi("-exec-interrupt");
    return this.waitForStop(options);
  }

  /**
   * The stop the target is in, or the next one if it is running. Rejects with a
   * GdbTimeoutError after `timeoutMs` (default 30 s) while the target keeps running.
   */
  waitForStop(options: { timeoutMs?: number } = {}): Promise<GdbStop> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (this.stateValue === "closed") return Promise.reject(new GdbError("", "This gdb session is closed."));
    if (this.stateValue !== "running" && this.stop) return this.stop;
    if (this.stateValue !== "running") {
      return Promise.reject(new GdbError("", `The target is ${this.stateValue}: there is no stop to wait for.`, { hint: "Connect, run or attach first." }));
    }
    return this.nextStop(timeoutMs);
  }

  /** The next `*stopped`, whatever the state now. */
  private nextStop(timeoutMs: number): Promise<GdbStop> {
    return new Promise<GdbStop>((resolve, reject) => {
      const waiter = (stop: Promise<GdbStop>) => {
        clearTimeout(timer);
        stop.then(resolve, reject);
      };
      const timer = setTimeout(() => {
        this.stopWaiters.delete(waiter);
        reject(
          new GdbTimeoutError("", `The target did not stop within ${formatSeconds(timeoutMs)}.`, {
            hint: "It is still running: wait longer (waitForStop({ timeoutMs })) or stop it with interrupt().",
          }),
        );
      }, timeoutMs);
      this.stopWaiters.add(waiter);
    });
  }

  /** Runs until the current function returns; the stop carries `returnValue` when gdb knows it. */
  finish(options: { timeoutMs?: number } = {}): Promise<GdbStop> {
    return this.resumeAndWait("-exec-finish", options);
  }

  /**
   * Steps one source line, into calls. Without line information (a kernel with kallsyms only)
   * gdb steps instruction by instruction out of the function: use stepInstruction() there.
   */
  step(options: { timeoutMs?: number } = {}): Promise<GdbStop> {
    return this.resumeAndWait("-exec-step", options);
  }

  /** Steps one source line, over calls. */
  next(options: { timeoutMs?: number } = {}): Promise<GdbStop> {
    return this.resumeAndWait("-exec-next", options);
  }

  /** Steps one machine instruction. */
  stepInstruction(options: { timeoutMs?: number } = {}): Promise<GdbStop> {
    return this.resumeAndWait("-exec-step-instruction", options);
  }

  /** The call stack of the selected thread, innermost first, with arguments where DWARF has them. */
  async backtrace(options: { limit?: number } = {}): Promise<GdbFrame[]> {
    const last = Math.max(0, (options.limit ?? 64) - 1);
    const frames = parseStack((await this.mi(`-stack-list-frames 0 ${last}`)).results.stack);
    try {
      const args = (await this.mi(`-stack-list-arguments --simple-values 0 ${last}`)).results["stack-args"];
      if (Array.isArray(args)) {
        for (const entry of args) {
          const t = entry as MiTuple;
          const frame = frames.find((f) => f.level === Number(t.level));
          if (frame && !frame.args.length) frame.args = parseArguments(t.args);
        }
      }
    } catch {
      // Arguments are a bonus: frames without DWARF can make gdb give up on them.
    }
    return frames;
  }

  /** Integer registers by name (rip, rsp, rdi…, cr3 on a QEMU target); vector registers are left out. */
  async registers(): Promise<Record<string, bigint>> {
    const names = await this.registerNameList();
    const values = (await this.mi("-data-list-register-values --skip-unavailable x")).results["register-values"];
    return integerRegisters(names, values);
  }

  /** Reads `length` bytes of target memory at an address or address expression. */
  async read(address: Location, length: number): Promise<Uint8Array> {
    const at = typeof address === "string" && !/^0x[0-9a-f]+$/i.test(address) ? address : formatAddress(BigInt(address));
    const result = await this.mi(`-data-read-memory-bytes ${quoteMiArgument(at)} ${length}`);
    const { bytes, got } = memoryBytes(result.results.memory, length);
    if (got < length) {
      throw new GdbError(`-data-read-memory-bytes ${at} ${length}`, `Could read only ${got} of ${length} bytes at ${at}.`, {
        hint: "Part of the range is not mapped.",
      });
    }
    return bytes;
  }

  /**
   * Reads a NUL-terminated string (UTF-8) whose address an expression gives, e.g. `$rsi` at
   * `do_sys_openat2` (its filename argument, x86-64 SysV). Reads page by page, so a string
   * that ends just before unmapped memory still reads.
   */
  async readString(expression: string, options: { maxLength?: number } = {}): Promise<string> {
    const maxLength = options.maxLength ?? 4096;
    let address = await this.evalAddress(expression);
    const parts: Uint8Array[] = [];
    let total = 0;
    while (total < maxLength) {
      const toPageEnd = Number(PAGE - (address % PAGE));
      const n = Math.min(STRING_CHUNK, toPageEnd, maxLength - total);
      let chunk: Uint8Array;
      try {
        chunk = await this.read(address, n);
      } catch (error) {
        if (total > 0) break; // the string ran into unmapped memory: keep what was readable
        throw new GdbError(`readString ${expression}`, `Cannot read a string at ${formatAddress(address)} (${expression}).`, {
          cause: error,
          detail: error instanceof GdbError ? error.gdbMessage : undefined,
          hint: "The page is not mapped: a user page the process has not touched yet is not in memory (the kernel faults it in when it copies the string).",
        });
      }
      const nul = chunk.indexOf(0);
      parts.push(nul >= 0 ? chunk.subarray(0, nul) : chunk);
      total += nul >= 0 ? nul : chunk.length;
      if (nul >= 0) break;
      address += BigInt(n);
    }
    return Buffer.concat(parts).toString("utf8");
  }

  /** Evaluates an expression in the selected frame and returns gdb's printed value. */
  async eval(expression: string): Promise<string> {
    const value = (await this.mi(`-data-evaluate-expression ${quoteMiArgument(expression)}`)).results.value;
    return typeof value === "string" ? value : "";
  }

  /** The selected frame's arguments and locals, typed (needs DWARF; empty without). */
  async variables(): Promise<GdbVariable[]> {
    return parseVariables((await this.mi("-stack-list-variables --simple-values")).results.variables);
  }

  /** The selected frame's arguments by name, with types: `filename`, `how` at do_sys_openat2. */
  async args(): Promise<GdbVariable[]> {
    return (await this.variables()).filter((v) => v.arg);
  }

  /** The selected frame's local variables, with types. */
  async locals(): Promise<GdbVariable[]> {
    return (await this.variables()).filter((v) => !v.arg);
  }

  /**
   * The source around the selected frame's line (`list`), or undefined without line
   * information or when the file is not on this machine.
   */
  async source(options: { context?: number } = {}): Promise<SourceExcerpt | undefined> {
    const frame = parseFrame((await this.mi("-stack-info-frame")).results.frame);
    if (!frame?.line || !frame.fullname) return undefined;
    return readSourceExcerpt(frame.fullname, frame.file ?? frame.fullname, frame.line, options.context);
  }

  /**
   * An expression as a typed value tree (structs' fields, arrays' elements, pointers followed),
   * `depth` levels down (default 2), at most `maxChildren` children a level (default 64).
   * `valueToData(await g.print("*how"))` gives plain data.
   */
  async print(expression: string, options: { depth?: number; maxChildren?: number } = {}): Promise<GdbValue> {
    let created: MiCommandResult;
    let evaluated = expression;
    try {
      created = await this.mi(`-var-create - * ${quoteMiArgument(expression)}`);
    } catch (error) {
      // `current` is a C macro, absent from DWARF; the kernel's gdb scripts give $lx_current().
      evaluated = expression.replace(/(?<![\w.>$])current(?!\w)/g, "$lx_current()");
      if (evaluated === expression) throw error;
      created = await this.mi(`-var-create - * ${quoteMiArgument(evaluated)}`);
    }
    const root = parseVarObject(created.results);
    try {
      return await this.valueTree(root, expression, evaluated, options.depth ?? 2, options.maxChildren ?? 64);
    } finally {
      await this.mi(`-var-delete ${root.id}`).catch(() => undefined);
    }
  }

  /** An expression as plain data: `await g.value("*how")` → { flags: 32768, mode: 0, resolve: 0 }. */
  async value(expression: string, options: { depth?: number; maxChildren?: number } = {}): Promise<unknown> {
    return valueToData(await this.print(expression, options));
  }

  private async valueTree(object: VarObject, name: string, expression: string, depth: number, maxChildren: number): Promise<GdbValue> {
    const value: GdbValue = { name, expression, type: object.type, value: object.value };
    // A char array is text to a reader: gdb's own printing ("cat\000…") instead of 16 children.
    if (/^(unsigned |signed )?char \[\d+\]$/.test(object.type)) return { ...value, value: await this.eval(expression).catch(() => object.value) };
    // A char pointer is a string too: gdb's value is `0xffff… "text"`, not a child to open.
    if (/^(const )?(unsigned |signed )?char \*$/.test(object.type)) return value;
    if (object.children === 0 || depth <= 0) return value;
    const listed = await this.mi(`-var-list-children --all-values ${object.id} 0 ${maxChildren}`);
    const children = parseVarChildren(listed.results.children);
    value.children = [];
    for (const child of children) {
      // C++-style access groups ("public") and anonymous unions are not fields: open them in place.
      const transparent = /^(public|private|protected)$/.test(child.expression);
      const childExpression = /^\[?\d+\]?$/.test(child.expression) ? `(${expression})[${child.expression.replace(/[[\]]/g, "")}]` : `(${expression}).${child.expression}`;
      value.children.push(await this.valueTree(child, transparent ? "" : child.expression, transparent ? expression : childExpression, transparent ? depth : depth - 1, maxChildren));
    }
    if (object.children > children.length) value.truncated = true;
    return value;
  }

  /**
   * Runs one of the kernel's gdb helpers (a kbook linux build loads them): `g.lx("dmesg")`,
   * `g.lx("ps")`, `g.lx("lsmod")`; returns what it printed.
   */
  async lx(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    const name = command.replace(/^lx-/, "");
    try {
      return await this.command(`lx-${name}`, { timeoutMs: options.timeoutMs ?? 60_000 });
    } catch (error) {
      if (error instanceof GdbError && /Undefined command/.test(error.gdbMessage ?? error.message)) {
        throw new GdbError(`lx-${name}`, `gdb has no lx-${name}: the kernel's gdb scripts are not loaded.`, {
          hint: "They come with a kernel built by 'kbook linux build' (CONFIG_GDB_SCRIPTS); boot it with bootVm({ linux: ... }).",
        });
      }
      throw error;
    }
  }

  /** Detaches: gdb removes its breakpoints and the target runs on (a guest resumes). */
  async detach(): Promise<void> {
    await this.mi("-target-detach");
    this.ownership = "none";
    this.setState("detached");
  }

  /**
   * Lets go of the target and ends gdb. A gdbstub or attached process is detached (so the guest
   * runs on: a gdb killed while connected leaves QEMU's CPUs halted), a process gdb started is
   * killed. Safe to call twice.
   */
  async close(): Promise<void> {
    if (!this.channel.alive) return;
    try {
      if (this.ownership === "attached") {
        if (this.stateValue === "running") await this.interrupt({ timeoutMs: 5000 }).catch(() => undefined);
        await this.detach().catch(() => undefined);
      } else if (this.ownership === "spawned" && this.stateValue !== "exited") {
        await this.mi("-interpreter-exec console kill", { timeoutMs: 5000 }).catch(() => undefined);
      }
      await this.mi("-gdb-exit", { timeoutMs: 5000 }).catch(() => undefined);
    } finally {
      await this.channel.terminate();
      this.setState("closed");
    }
  }

  private async resumeAndWait(command: string, options: { timeoutMs?: number }): Promise<GdbStop> {
    await this.mi(command);
    return this.waitForStop(options);
  }

  private async evalAddress(expression: string): Promise<bigint> {
    const text = await this.eval(`(unsigned long)(${expression})`);
    const address = parseAddress(text);
    if (address === undefined) throw new GdbError("", `'${expression}' is not an address (gdb printed '${text}').`);
    return address;
  }

  private async registerNameList(): Promise<string[]> {
    if (!this.registerNames) {
      const names = (await this.mi("-data-list-register-names")).results["register-names"];
      this.registerNames = Array.isArray(names) ? names.map((n) => (typeof n === "string" ? n : "")) : [];
    }
    return this.registerNames;
  }

  private setState(state: GdbTargetState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    if (state !== "stopped" && state !== "exited") this.stop = undefined;
    for (const listener of this.stateListeners) listener(state);
  }

  private onAsync(record: Extract<MiRecord, { kind: "exec" | "status" | "notify" }>): void {
    if (record.kind === "exec" && record.class === "running") {
      this.setState("running");
    } else if (record.kind === "exec" && record.class === "stopped") {
      const base = parseStopRecord(record.results);
      const stop = this.describe(base);
      stop.catch(() => undefined);
      this.stop = stop;
      this.stopSummary = `stopped in gdb at ${base.function ?? (base.address !== undefined ? formatAddress(base.address) : "an unknown address")} (${base.breakpoint !== undefined ? `breakpoint ${base.breakpoint}` : base.reason})`;
      this.setState(isExitStop(base.reason) ? "exited" : "stopped");
      for (const waiter of this.stopWaiters) waiter(stop);
      this.stopWaiters.clear();
    } else if (record.kind === "notify" && record.class === "thread-group-exited" && this.stateValue === "running") {
      this.setState("exited");
    }
  }

  /** Completes a stop with its backtrace and, without DWARF arguments, the argument registers. */
  private async describe(base: Omit<GdbStop, "backtrace" | "registerArgs">): Promise<GdbStop> {
    const stop: GdbStop = { ...base, backtrace: [] };
    if (isExitStop(base.reason)) return withStopDisplay(stop);
    stop.backtrace = await this.backtrace({ limit: 32 }).catch(() => []);
    if (stop.fullname && stop.line) stop.source = await readSourceExcerpt(stop.fullname, stop.file ?? stop.fullname, stop.line, 4);
    if (!stop.args.length) {
      const registers = await this.registers().catch(() => ({}) as Record<string, bigint>);
      const args = ARGUMENT_REGISTERS.filter((r) => registers[r] !== undefined).map((r) => ({ register: r, value: registers[r]! }));
      if (args.length) stop.registerArgs = args;
    }
    return withStopDisplay(stop);
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

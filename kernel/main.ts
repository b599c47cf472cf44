#!/usr/bin/env node
/**
 * The kbook Jupyter kernel: `node dist/kernel/main.js CONNECTION_FILE` (what the kernelspec
 * written by `kbook kernel install` runs). Binds the sockets and answers at once; TypeScript
 * loads in a worker thread meanwhile, so the first kernel_info reply does not wait for it.
 */
import { readFileSync } from "node:fs";
import { assetPath, packageRoot } from "../lib/paths.js";
import { isKbookError } from "../lib/errors/index.js";
import { KernelChannels } from "./protocol/channels.js";
import { MessageSigner, parseConnectionInfo } from "./protocol/wire.js";
import { captureProcessOutput, OutputRouter } from "./output.js";
import { TypeScriptWorker } from "./typescript/client.js";
import { ScriptRuntime } from "./executor/runtime.js";
import { CellExecutor } from "./executor/cell-executor.js";
import { createCellApi } from "./display/display-api.js";
import { completeMagicCell, CurrentVm, defaultMagics } from "./magics/index.js";
import { Kernel } from "./kernel.js";
import { Interrupts } from "./interrupt/index.js";

async function main(argv: string[]): Promise<void> {
  const file = argv[0] === "-f" ? argv[1] : argv[0];
  if (!file) {
    process.stderr.write("usage: node dist/kernel/main.js CONNECTION_FILE\n(Jupyter starts the kernel this way; install it with 'kbook kernel install'.)\n");
    process.exit(2);
  }
  const info = parseConnectionInfo(readFileSync(file, "utf8"));
  const realStderr = process.stderr.write.bind(process.stderr);
  const log = (text: string) => void realStderr(text.endsWith("\n") ? text : text + "\n");

  let kernel: Kernel | undefined;
  const interrupts = new Interrupts((at) => kernel?.interrupt(at));
  const channels = await KernelChannels.open(info, new MessageSigner(info.key, info.signature_scheme), log, interrupts);
  const router = new OutputRouter((type, content, parent) => channels.publish(type, content, parent));
  captureProcessOutput(router);

  const cwd = process.cwd();
  const typescript = new TypeScriptWorker({ cwd, packageRoot: packageRoot(), globalsFile: assetPath("kernel", "cell-globals.d.ts") });
  const runtime = new ScriptRuntime(cwd);
  const currentVm = new CurrentVm();
  runtime.setModuleFilter((specifier, namespace) => (specifier === "kbook" ? currentVm.wrapKbookModule(namespace) : namespace));

  const reportError = (error: unknown) =>
    router.stream("stderr", `${isKbookError(error) ? error.describe() : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  const api = createCellApi(router, () => kernel!.currentSignal(), reportError);
  runtime.defineGlobals({
    display: api.display,
    clearOutput: api.clearOutput,
    progressDisplay: api.progressDisplay,
    cellSignal: api.cellSignal,
    input: (prompt = "") => kernel!.input(String(prompt), false),
    password: (prompt = "") => kernel!.input(String(prompt), true),
  });

  const magics = defaultMagics();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await currentVm.shutdownAll();
    await typescript.close().catch(() => undefined);
    await channels.close();
    await interrupts.close();
    process.exit(code);
  };
  kernel = new Kernel({
    channels,
    executor: new CellExecutor(typescript, runtime, magics, currentVm, api, router),
    typescript,
    router,
    completeMagic: (code, cursor) => completeMagicCell(code, cursor, magics, currentVm.get()),
    interrupts,
    onShutdown: () => stop(0),
    log,
  });
  kernel.start();
  void typescript.warm().catch((error: unknown) => log(`kbook kernel: TypeScript failed to start: ${String(error)}`));

  // Ctrl-C in the terminal that started Jupyter reaches the kernel too: it interrupts, as in
  // ipykernel, also a cell that spins (the watch thread); this handler covers the instants between
  // two of the watch's waits.
  interrupts.watchSigint(log);
  process.on("SIGINT", () => kernel!.interrupt());
  process.on("SIGTERM", () => void stop(0));
  process.on("SIGHUP", () => void stop(0));
  // A cell's stray rejection or exception must not take the kernel (and the notebook's state) down.
  process.on("unhandledRejection", reportError);
  process.on("uncaughtException", reportError);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`kbook kernel: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/**
 * kbook's kernel behind a real Jupyter server (Debian's jupyter_server 1.23), driven from Node by
 * @jupyterlab/services — the client JupyterLab itself uses — over the server's REST API and
 * kernel websocket: a session starts a kbook kernel, cells run and send their streams and
 * results, completion and inspection answer, a busy cell is interrupted with the notebook's
 * variables kept, a restart forgets them, and shutdown ends the kernel process.
 */
import { KernelManager, KernelSpecManager, ServerConnection, SessionManager, type Kernel, type KernelMessage, type Session } from "@jupyterlab/services";
import { existsSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasJupyterApp, startJupyter, waitUntil, type RunningJupyter } from "./jupyter-server.js";

interface Ran {
  reply: KernelMessage.IExecuteReplyMsg["content"];
  stdout: string;
  stderr: string;
  results: KernelMessage.IExecuteResultMsg["content"][];
  errors: KernelMessage.IErrorMsg["content"][];
}

/** Runs a cell and gathers what the kernel sent for it on IOPub; `onStream` sees streams as they come. */
async function run(kernel: Kernel.IKernelConnection, code: string, onStream?: (text: string) => void): Promise<Ran> {
  const ran: Omit<Ran, "reply"> = { stdout: "", stderr: "", results: [], errors: [] };
  const future = kernel.requestExecute({ code, stop_on_error: false });
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === "stream") {
      const { name, text } = (msg as KernelMessage.IStreamMsg).content;
      ran[name] += text;
      onStream?.(text);
    } else if (msg.header.msg_type === "execute_result") ran.results.push((msg as KernelMessage.IExecuteResultMsg).content);
    else if (msg.header.msg_type === "error") ran.errors.push((msg as KernelMessage.IErrorMsg).content);
  };
  // done resolves once both the reply and the IOPub idle for this request have arrived.
  const reply = await future.done;
  return { reply: reply.content as KernelMessage.IExecuteReplyMsg["content"], ...ran };
}

const text = (result: KernelMessage.IExecuteResultMsg["content"] | undefined) => result?.data["text/plain"];

describe.skipIf(!hasJupyterApp("jupyter_server"))("kbook's kernel in a real Jupyter server, through @jupyterlab/services", () => {
  let jupyter: RunningJupyter;
  let settings: ServerConnection.ISettings;
  let kernels: KernelManager;
  let sessions: SessionManager;
  let session: Session.ISessionConnection;
  let kernel: Kernel.IKernelConnection;

  beforeAll(async () => {
    jupyter = await startJupyter("jupyter_server");
    settings = ServerConnection.makeSettings({
      baseUrl: jupyter.baseUrl,
      wsUrl: jupyter.baseUrl.replace(/^http/, "ws"),
      token: jupyter.token,
      // Node sends no cookies or XSRF header: the token goes on the websocket URL too.
      appendToken: true,
      // ws's client is the WebSocket a browser has, for Node 20 (which has none built in).
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      fetch,
      Request,
      Headers,
    });
    kernels = new KernelManager({ serverSettings: settings });
    sessions = new SessionManager({ kernelManager: kernels, serverSettings: settings });
    await sessions.ready;
  }, 90_000);

  afterAll(async () => {
    sessions?.dispose();
    kernels?.dispose();
    await jupyter?.stop();
  });

  it("lists kbook's kernelspec", async () => {
    const specs = new KernelSpecManager({ serverSettings: settings });
    await specs.ready;
    const kbook = specs.specs?.kernelspecs.kbook;
    specs.dispose();
    expect(kbook?.display_name).toBe("TypeScript (kbook)");
    expect(kbook?.language).toBe("typescript");
  });

  it("starts a session on a kbook kernel that introduces itself over the websocket", async () => {
    session = await sessions.startNew({ path: "scratch.ipynb", type: "notebook", name: "scratch.ipynb", kernel: { name: "kbook" } });
    kernel = session.kernel!;
    expect(kernel.name).toBe("kbook");
    const info = await kernel.info;
    expect(info.implementation).toBe("kbook");
    expect(info.language_info.name).toBe("typescript");
    expect(info.status).toBe("ok");
    // The server knows the session by its notebook path.
    const listed = (await (await jupyter.api("api/sessions")).json()) as { path: string; kernel: { id: string; name: string } }[];
    expect(listed).toEqual([expect.objectContaining({ path: "scratch.ipynb", kernel: expect.objectContaining({ id: kernel.id, name: "kbook" }) })]);
    expect(jupyter.kernelPids()).toHaveLength(1);
  }, 60_000);

  it("runs cells: an expression's result, console output as streams, errors", async () => {
    const sum = await run(kernel, "1 + 1");
    expect(sum.reply.status).toBe("ok");
    expect(sum.results.map(text)).toEqual(["2"]);
    expect(sum.reply.execution_count).toEqual(expect.any(Number));
    expect(sum.results[0]!.execution_count).toBe(sum.reply.execution_count);

    const logged = await run(kernel, 'const greeting: string = "hello"; console.log(greeting, 42); console.error("to stderr"); greeting.length');
    expect(logged.reply.status).toBe("ok");
    expect(logged.stdout).toBe("hello 42\n");
    expect(logged.stderr).toBe("to stderr\n");
    expect(logged.results.map(text)).toEqual(["5"]);
    expect(logged.reply.execution_count).toBe(Number(sum.reply.execution_count) + 1);

    const thrown = await run(kernel, 'throw new RangeError("out of range")');
    expect(thrown.reply.status).toBe("error");
    expect(thrown.errors.map((e) => [e.ename, e.evalue])).toEqual([["RangeError", "out of range"]]);
    // A later cell still sees the variable an earlier one declared.
    expect((await run(kernel, "greeting.toUpperCase()")).results.map(text)).toEqual(["'HELLO'"]);
  }, 60_000);

  it("completes members of a namespace, of an array and the notebook's own names", async () => {
    const complete = async (code: string) => {
      const reply = await kernel.requestComplete({ code, cursor_pos: code.length });
      expect(reply.content.status).toBe("ok");
      return reply.content as Extract<KernelMessage.ICompleteReplyMsg["content"], { status: "ok" }>;
    };
    const math = await complete("Math.");
    expect(math.matches).toEqual(expect.arrayContaining(["max", "min", "PI"]));
    expect([math.cursor_start, math.cursor_end]).toEqual([5, 5]);
    expect((await complete("[1, 2].")).matches).toEqual(expect.arrayContaining(["map", "filter", "length"]));
    const own = await complete("greet");
    expect(own.matches).toContain("greeting");
    expect([own.cursor_start, own.cursor_end]).toEqual([0, 5]);
  }, 60_000);

  it("inspects a name: its type and documentation", async () => {
    const reply = await kernel.requestInspect({ code: "Math.max", cursor_pos: 8, detail_level: 0 });
    expect(reply.content.status).toBe("ok");
    const content = reply.content as KernelMessage.IInspectReply;
    expect(content.found).toBe(true);
    expect(String(content.data["text/plain"])).toMatch(/max\(.*number/);
  }, 60_000);

  it("interrupts a cell that spins in synchronous code, keeping the notebook's variables", async () => {
    await run(kernel, "let kept = 41");
    // The cell marks a file just before it spins, so the test interrupts a loop that surely runs.
    // (Its console.log cannot say so: the kernel sends the 'x' only once the cell has ended.)
    const mark = join(jupyter.root, "spinning");
    const busy = run(kernel, `console.log('x'); require("node:fs").writeFileSync(${JSON.stringify(mark)}, ""); while (true) {}`);
    await waitUntil("the cell to spin", () => existsSync(mark));
    expect(kernel.status).toBe("busy");
    await kernel.interrupt();
    const interrupted = await busy;
    expect(interrupted.stdout).toBe("x\n");
    expect(interrupted.reply.status).toBe("error");
    expect((interrupted.reply as KernelMessage.IReplyErrorContent).ename).toBe("Interrupted");
    expect(interrupted.errors.map((e) => e.ename)).toEqual(["Interrupted"]);
    const after = await run(kernel, "kept + 1");
    expect(after.reply.status).toBe("ok");
    expect(after.results.map(text)).toEqual(["42"]);
    // The reply and the IOPub idle come on two channels in either order; the status follows the idle.
    await waitUntil("the kernel to be idle", () => kernel.status === "idle", 10_000);
  }, 60_000);

  it("restarts the kernel: the notebook's variables are gone and the new kernel answers", async () => {
    // eval asks the runtime, not the compiler, whether the name is bound.
    const bound = "eval('typeof kept')";
    expect((await run(kernel, bound)).results.map(text)).toEqual(["'number'"]);
    const [before] = jupyter.kernelPids();
    await kernel.restart();
    await waitUntil("the restarted kernel to be idle", () => kernel.status === "idle" && kernel.connectionStatus === "connected");
    expect(jupyter.kernelPids()).toHaveLength(1);
    expect(jupyter.kernelPids()).not.toContain(before);
    const gone = await run(kernel, bound);
    expect(gone.results.map(text)).toEqual(["'undefined'"]);
    // A fresh kernel counts cells from 1 again.
    expect(gone.reply.execution_count).toBe(1);
    const unknown = await run(kernel, "kept");
    expect(unknown.errors.map((e) => [e.ename, e.evalue])).toEqual([["TypeScriptError", "line 1, column 1: Cannot find name 'kept'."]]);
    expect((await run(kernel, "6 * 7")).results.map(text)).toEqual(["42"]);
  }, 60_000);

  it("shuts the kernel down: the server forgets it and its process ends", async () => {
    expect(jupyter.kernelPids()).toHaveLength(1);
    await session.shutdown();
    expect(await (await jupyter.api("api/kernels")).json()).toEqual([]);
    expect(await (await jupyter.api("api/sessions")).json()).toEqual([]);
    await waitUntil("the kernel process to end", () => jupyter.kernelPids().length === 0, 15_000);
    expect(kernel.isDisposed || kernel.status === "dead").toBe(true);
  }, 60_000);
});

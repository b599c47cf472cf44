/**
 * The built kernel driven over ZeroMQ by a real client: ordering, interrupts, aborts, bindings.
 * Needs `npm run build` (the kernel runs from dist/, as Jupyter runs it).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../lib/paths.js";
import { KernelClient } from "../../kernel/protocol/client.js";
import type { JupyterMessage } from "../../kernel/protocol/wire.js";

const main = join(packageRoot(), "dist", "kernel", "main.js");

function text(outputs: JupyterMessage[], name: "stdout" | "stderr" = "stdout"): string {
  return outputs.filter((m) => m.header.msg_type === "stream" && m.content.name === name).map((m) => String(m.content.text)).join("");
}

describe("kbook kernel over ZeroMQ", () => {
  let client: KernelClient;

  beforeAll(async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first.`);
    client = await KernelClient.start([process.execPath, "--no-force-async-hooks-checks", main, "{connection_file}"], { cwd: join(packageRoot(), "test", "kernel") });
    await client.ready();
  });

  afterAll(async () => {
    await client?.shutdown();
  });

  test("kernel_info_reply describes a TypeScript kernel speaking protocol 5.3", async () => {
    const reply = await client.request("kernel_info_request");
    expect(reply.content).toMatchObject({ status: "ok", protocol_version: "5.3", implementation: "kbook", language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" } });
    expect(String(reply.content.banner)).toMatch(/TypeScript/);
  });

  test("execution counts, execute_input and execute_result; outputs in order before idle", async () => {
    const first = await client.execute('console.log("a"); display("b"); console.error("c"); 40 + 2');
    expect(first.reply.content.status).toBe("ok");
    const count = first.reply.content.execution_count as number;
    expect(first.outputs.map((m) => m.header.msg_type)).toEqual(["stream", "display_data", "stream", "execute_result"]);
    expect(first.outputs[3]!.content).toMatchObject({ execution_count: count, data: { "text/plain": "42" } });
    const second = await client.execute("1");
    expect(second.reply.content.execution_count).toBe(count + 1);
    const silent = await client.execute("2", { silent: true });
    expect(silent.outputs).toEqual([]);
    expect(silent.reply.content.execution_count).toBe(count + 1);
  });

  test("user_expressions are evaluated after the cell, in its scope, each with its data or its error", async () => {
    const run = await client.execute("const answer = 41;", { user_expressions: { next: "answer + 1", list: "[answer]", bad: "noSuchName.x", throws: 'JSON.parse("{")' } });
    expect(run.reply.content.status).toBe("ok");
    const answers = run.reply.content.user_expressions as Record<string, Record<string, unknown>>;
    expect(answers.next).toEqual({ status: "ok", data: { "text/plain": "42" }, metadata: {} });
    expect(answers.list).toMatchObject({ status: "ok", data: { "text/plain": "[ 41 ]" } });
    // Checked as TypeScript first, as a cell is; a runtime throw is its error.
    expect(answers.bad).toMatchObject({ status: "error", ename: "TypeScriptError" });
    expect(String(answers.bad!.evalue)).toMatch(/noSuchName/);
    expect(answers.throws).toMatchObject({ status: "error", ename: "SyntaxError" });
    // They add no outputs and no execution count of their own.
    expect(run.outputs).toEqual([]);
    const after = await client.execute("answer");
    expect(after.reply.content.execution_count).toBe((run.reply.content.execution_count as number) + 1);
  });

  test("a thrown error is an error output and an error reply; the next request still runs", async () => {
    const failed = await client.execute('const f = () => { throw new RangeError("too far") };\nf()');
    expect(failed.reply.content).toMatchObject({ status: "error", ename: "RangeError", evalue: "too far" });
    expect(failed.outputs.map((m) => m.header.msg_type)).toEqual(["error"]);
    expect((failed.reply.content.traceback as string[]).join("\n")).toMatch(/cell \[\d+\], line 1:/);
    expect((await client.execute("f.name")).outputs[0]!.content.data).toEqual({ "text/plain": "'f'" });
  });

  test("after an error, execute requests queued behind it are aborted and later ones run", async () => {
    const [bad, queued] = await Promise.all([client.execute('throw new Error("stop")'), client.execute("123")]);
    expect(bad.reply.content.status).toBe("error");
    expect(queued.reply.content.status).toBe("aborted");
    expect((await client.execute("124")).reply.content.status).toBe("ok");
  });

  test("display handles update in place", async () => {
    const { outputs } = await client.execute('const h = display("one", { id: "progress-1" }); h.update("two")');
    expect(outputs.map((m) => [m.header.msg_type, m.content.transient])).toEqual([
      ["display_data", { display_id: "progress-1" }],
      ["update_display_data", { display_id: "progress-1" }],
    ]);
  });

  test("a display rendered asynchronously still arrives before the cell's idle", async () => {
    const { outputs } = await client.execute(
      'display({ [Symbol.for("Jupyter.display")]: async () => { await new Promise((r) => setTimeout(r, 200)); return { "text/html": "<i>late</i>" }; } })',
    );
    expect(outputs.map((m) => [m.header.msg_type, m.content.data])).toEqual([["display_data", { "text/html": "<i>late</i>", "text/plain": "<Object>" }]]);
  });

  test("a progress display follows kbook's ProgressEvent", async () => {
    const { outputs } = await client.execute('const p = progressDisplay("image"); p({ stage: "mmdebstrap", elapsedMs: 1200, fraction: 0.5 }); p.done("built")');
    const last = outputs[outputs.length - 1]!;
    expect(last.header.msg_type).toBe("update_display_data");
    expect(String((last.content.data as Record<string, string>)["text/plain"])).toMatch(/image — mmdebstrap: built .*100%/);
  });

  test("interrupt_request stops a cell waiting on work that ignores its signal, and aborts cellSignal()", async () => {
    const running = client.execute("const g = globalThis as any; g.sawAbort = false; cellSignal().addEventListener(\"abort\", () => { g.sawAbort = true }); await new Promise(() => {})");
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const reply = await client.request("interrupt_request", {}, "control");
    expect(reply.content.status).toBe("ok");
    const { reply: execReply } = await running;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(execReply.content).toMatchObject({ status: "error", ename: "Interrupted" });
    expect((await client.execute("(globalThis as any).sawAbort")).outputs[0]!.content.data).toEqual({ "text/plain": "true" });
  });

  test("SIGINT interrupts the running cell too, and the kernel survives", async () => {
    const running = client.execute("await new Promise((r) => setTimeout(r, 60_000))");
    await new Promise((r) => setTimeout(r, 300));
    client.process.kill("SIGINT");
    expect((await running).reply.content).toMatchObject({ status: "error", ename: "Interrupted" });
    expect((await client.execute("'alive'")).reply.content.status).toBe("ok");
  });

  test("%%host streams the script's output and binds its result for later cells", async () => {
    const { outputs, reply } = await client.execute("%%host --out listing\necho one; echo two >&2; printf 'three'");
    expect(reply.content.status).toBe("ok");
    expect(text(outputs)).toBe("one\nthree");
    expect(text(outputs, "stderr")).toBe("two\n");
    const typed = await client.execute("listing.stdout.length + _.exitCode!");
    expect(typed.outputs[0]!.content.data).toEqual({ "text/plain": "9" });
  });

  test("an interrupt stops a %%host script and its children", async () => {
    const running = client.execute("%%host\nsleep 30; echo not-reached");
    await new Promise((r) => setTimeout(r, 500));
    await client.request("interrupt_request", {}, "control");
    const { reply, outputs } = await running;
    expect(reply.content.ename).toBe("Interrupted");
    expect(text(outputs)).not.toContain("not-reached");
  });

  test("complete, inspect, is_complete and history requests", async () => {
    const complete = await client.request("complete_request", { code: "Math.ma", cursor_pos: 7 });
    expect(complete.content).toMatchObject({ status: "ok", matches: ["max"], cursor_start: 5, cursor_end: 7 });
    const magics = await client.request("complete_request", { code: "%%b", cursor_pos: 3 });
    expect(magics.content.matches).toEqual(["%%bpftrace"]);
    const inspect = await client.request("inspect_request", { code: "Math.max", cursor_pos: 8, detail_level: 0 });
    expect(inspect.content).toMatchObject({ status: "ok", found: true });
    expect((await client.request("is_complete_request", { code: "if (x) {" })).content).toEqual({ status: "incomplete", indent: "  " });
    const history = await client.request("history_request", { hist_access_type: "tail", n: 1, output: false, raw: true });
    expect((history.content.history as unknown[]).length).toBe(1);
  });
});

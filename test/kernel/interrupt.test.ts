/**
 * Interrupting cells that hold the main thread: a synchronous `while (true) {}`, a busy loop after
 * an await, one inside a timer callback the cell waits for — by the frontend's interrupt (an
 * interrupt_request, what the kernelspec's interrupt_mode "message" makes Jupyter send) and by
 * SIGINT. Driven by the real jupyter_client (Debian's python3-jupyter-client): the cell's reply
 * says Interrupted, the heartbeat is answered while the cell spins, the notebook's variables are
 * kept and the next cell runs.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { execa } from "execa";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureProjectKernelSpec, jupyterPathWith } from "../../lib/notebooks/kernelspec.js";

const CLIENT = String.raw`
import json, os, signal, time
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="kbook", startup_timeout=60)
pid = km.provisioner.process.pid

MARK = os.environ["MARK"]
SPINNING = "require('fs').writeFileSync(" + json.dumps(MARK) + ", 'x');"

def run(code, how=None, timeout=30):
    """Runs a cell; once it is spinning (it wrote MARK), interrupts it the way 'how' says."""
    if os.path.exists(MARK):
        os.unlink(MARK)
    msg_id = kc.execute(code.replace("SPINNING", SPINNING))
    outputs, sent, beating = [], None, None
    deadline = time.time() + timeout
    while time.time() < deadline:
        if how and sent is None and os.path.exists(MARK):
            time.sleep(0.3)
            beating = kc.hb_channel.is_beating()
            sent = time.time()
            if how == "message":
                km.interrupt_kernel()
            else:
                os.kill(pid, signal.SIGINT)
        try:
            m = kc.get_iopub_msg(timeout=0.05)
        except Exception:
            continue
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        kind = m["msg_type"]
        if kind == "stream":
            outputs.append(m["content"]["text"])
        elif kind == "error":
            outputs.append("ERROR " + m["content"]["ename"] + ": " + m["content"]["evalue"])
        elif kind == "status" and m["content"]["execution_state"] == "idle":
            reply = kc.get_shell_msg(timeout=10)
            return {"status": reply["content"]["status"], "ename": reply["content"].get("ename"), "outputs": "".join(outputs),
                    "latency": time.time() - sent if sent else None, "beating": beating}
    return {"status": "timeout", "outputs": "".join(outputs)}

results = {}
try:
    results["define"] = run("let kept = 41; kept++; kept")
    results["sync"] = run("console.log('printed before'); SPINNING while (true) {}", "message")
    results["afterAwait"] = run("await new Promise((r) => setTimeout(r, 20)); SPINNING let n = 0; for (;;) { n += Math.random() }", "message")
    results["inTimer"] = run("await new Promise((r) => setTimeout(() => { SPINNING while (true) {} }, 20))", "message")
    results["sigint"] = run("SPINNING while (true) {}", "signal")
    results["sigintAfterAwait"] = run("await new Promise((r) => setTimeout(r, 20)); SPINNING while (true) {}", "signal")
    results["idleInterrupt"] = km.interrupt_kernel() or "sent"
    results["after"] = run("console.log('kept is ' + kept); kept + 1")
    results["alive"] = km.is_alive()
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps(results))
`;

type Run = { status: string; ename?: string; outputs: string; latency?: number; beating?: boolean };

describe("interrupting a cell that holds the main thread", () => {
  let results: Record<string, Run> & { alive: boolean };

  beforeAll(async () => {
    const dataDir = ensureProjectKernelSpec();
    const mark = join(mkdtempSync(join(tmpdir(), "kbook-interrupt-")), "spinning");
    const child = await execa("/usr/bin/python3", ["-c", CLIENT], { env: { JUPYTER_PATH: jupyterPathWith(dataDir), MARK: mark }, reject: false, timeout: 240_000 });
    const last = String(child.stdout).trim().split("\n").pop() ?? "";
    if (!last.startsWith("{")) throw new Error(`the client did not finish:\n${child.stdout}\n${child.stderr}`);
    results = JSON.parse(last);
  }, 260_000);

  test.each(["sync", "afterAwait", "inTimer"])("%s busy loop: the frontend's interrupt stops it, with the heartbeat answered meanwhile", (name) => {
    const run = results[name]!;
    expect(run.status, JSON.stringify(run)).toBe("error");
    expect(run.ename).toBe("Interrupted");
    expect(run.beating).toBe(true);
    // A liveness bound, not a benchmark (npm run bench:kernel measures the latency).
    expect(run.latency).toBeLessThan(10);
  });

  test("what the cell printed before it spun is shown", () => {
    expect(results.sync!.outputs).toContain("printed before\n");
  });

  test.each(["sigint", "sigintAfterAwait"])("%s: SIGINT stops a busy loop too", (name) => {
    const run = results[name]!;
    expect(run.status, JSON.stringify(run)).toBe("error");
    expect(run.ename).toBe("Interrupted");
    expect(run.latency).toBeLessThan(10);
  });

  test("the kernel keeps its variables and runs the next cell", () => {
    expect(results.define!.status).toBe("ok");
    expect(results.after, JSON.stringify(results.after)).toMatchObject({ status: "ok", outputs: "kept is 42\n" });
    expect(results.alive).toBe(true);
  });
});

/**
 * `kbook kernel install` and Debian's Jupyter finding and starting the kernel: the kernelspec
 * list, and notebook 6.4's server starting a kbook kernel that reaches `idle`.
 */
import { describe, expect, test } from "vitest";
import { execa } from "execa";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { packageRoot } from "../../lib/paths.js";

const cli = join(packageRoot(), "dist", "lib", "cli", "main.js");
const main = join(packageRoot(), "dist", "kernel", "main.js");

const WEBSOCKET_CELL = `
import json, sys, uuid
from tornado import ioloop, websocket

async def run(url, code):
    ws = await websocket.websocket_connect(url)
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
    }))
    status = result = None
    idle = False
    while status is None or not idle:
        msg = json.loads(await ws.read_message())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "execute_reply":
            status = msg["content"]["status"]
        elif kind == "execute_result":
            result = msg["content"]["data"]["text/plain"]
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
    print(json.dumps({"status": status, "result": result}))

ioloop.IOLoop.current().run_sync(lambda: run(sys.argv[1], sys.argv[2]), timeout=50)
`;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("kbook kernel install", () => {
  const prefix = mkdtempSync(join(tmpdir(), "kbook-prefix-"));
  const dataDir = join(prefix, "share", "jupyter");

  test("--prefix writes kernels/kbook/kernel.json under PREFIX/share/jupyter", async () => {
    const child = await execa(process.execPath, [cli, "kernel", "install", "--prefix", prefix]);
    expect(child.stdout).toContain(`JUPYTER_PATH=${dataDir}`);
    const spec = JSON.parse(readFileSync(join(dataDir, "kernels", "kbook", "kernel.json"), "utf8"));
    expect(spec).toEqual({
      argv: [process.execPath, "--no-force-async-hooks-checks", main, "{connection_file}"],
      display_name: "TypeScript (kbook)",
      language: "typescript",
      interrupt_mode: "message",
      metadata: { debugger: false },
    });
  });

  test("--user and --prefix together are a usage error", async () => {
    const child = await execa(process.execPath, [cli, "kernel", "install", "--user", "--prefix", prefix], { reject: false });
    expect(child.exitCode).toBe(2);
    expect(child.stderr).toContain("Give --user or --prefix, not both.");
  });

  test("Jupyter lists the kernelspec when its directory is on JUPYTER_PATH", async () => {
    const child = await execa("/usr/bin/python3", ["-m", "jupyter_client.kernelspecapp", "list", "--json"], { env: { JUPYTER_PATH: dataDir, PYDEVD_DISABLE_FILE_VALIDATION: "1" } });
    const specs = JSON.parse(child.stdout).kernelspecs;
    expect(specs.kbook.resource_dir).toBe(join(dataDir, "kernels", "kbook"));
    expect(specs.kbook.spec.display_name).toBe("TypeScript (kbook)");
  });

  test("notebook 6.4's server starts the kernel and runs a cell through its websocket", async () => {
    const port = await freePort();
    const token = "kbook-test-token";
    const server = execa(
      "/usr/bin/python3",
      [
        "-m",
        "notebook",
        "--no-browser",
        "--ip=127.0.0.1",
        `--port=${port}`,
        `--NotebookApp.token=${token}`,
        `--notebook-dir=${prefix}`,
        "--port-retries=0",
        // CI containers run as root, which the notebook server refuses without this.
        ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
      ],
      {
        env: { JUPYTER_PATH: dataDir, JUPYTER_RUNTIME_DIR: join(prefix, "runtime"), JUPYTER_CONFIG_DIR: join(prefix, "config"), PYDEVD_DISABLE_FILE_VALIDATION: "1" },
        reject: false,
        stdin: "ignore",
      },
    );
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { Authorization: `token ${token}`, "Content-Type": "application/json" } });
    try {
      for (let i = 0; ; i++) {
        const ok = await api("/api").then((r) => r.ok, () => false);
        if (ok) break;
        if (i > 100) throw new Error("notebook server did not start");
        await new Promise((r) => setTimeout(r, 200));
      }
      const specs = (await (await api("/api/kernelspecs")).json()) as { kernelspecs: Record<string, unknown> };
      expect(Object.keys(specs.kernelspecs)).toContain("kbook");
      const kernel = (await (await api("/api/kernels", { method: "POST", body: JSON.stringify({ name: "kbook" }) })).json()) as { id: string; name: string };
      expect(kernel.name).toBe("kbook");
      // A browser talks to the kernel over the server's websocket; Node 20 has no WebSocket
      // client, so the notebook's own tornado runs a cell the way the page does.
      const cell = await execa("/usr/bin/python3", ["-c", WEBSOCKET_CELL, `ws://127.0.0.1:${port}/api/kernels/${kernel.id}/channels?token=${token}`, "6 * 7"], {
        env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" },
        timeout: 60_000,
      });
      expect(JSON.parse(cell.stdout)).toEqual({ status: "ok", result: "42" });
      const state = ((await (await api(`/api/kernels/${kernel.id}`)).json()) as { execution_state: string }).execution_state;
      expect(state).toBe("idle");
      expect((await api(`/api/kernels/${kernel.id}`, { method: "DELETE" })).status).toBe(204);
    } finally {
      server.kill("SIGTERM");
      await server;
    }
  }, 90_000);
});

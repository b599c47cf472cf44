/**
 * Real Jupyter servers from Debian's packages, for front-end tests: jupyter_server 1.23 (what
 * JupyterLab and @jupyterlab/services talk to) and the classic Notebook 6.4's own server. Each
 * runs on 127.0.0.1 with a free port, a random token, no browser, and its own temporary config,
 * data, runtime and root directories, with kbook's project kernelspec on JUPYTER_PATH; so nothing
 * in the user's ~/.jupyter changes what the test sees.
 *
 * stop() shuts the kernels down through the server, ends the server, and then kills any kernel
 * that outlived it (found by its connection file, which lives in this server's runtime dir).
 */
import { execa, type ResultPromise } from "execa";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JUPYTER_PYTHON } from "../../lib/system/doctor.js";
import { ensureProjectKernelSpec, jupyterPathWith } from "../../lib/notebooks/kernelspec.js";
import { isRunning } from "../support/processes.js";

export type JupyterApp = "jupyter_server" | "notebook";

/** Whether Debian's package for `app` is installed (python3-jupyter-server, jupyter-notebook). */
export function hasJupyterApp(app: JupyterApp): boolean {
  const module = app === "jupyter_server" ? "jupyter_server" : "notebook";
  return existsSync(JUPYTER_PYTHON) && existsSync(`/usr/lib/python3/dist-packages/${module}/__init__.py`);
}

export interface RunningJupyter {
  port: number;
  token: string;
  /** http://127.0.0.1:PORT/ */
  baseUrl: string;
  /** The directory the server serves notebooks from (its root_dir / notebook_dir). */
  root: string;
  /** A REST call with the token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** PIDs of the kernels this server started that are still running. */
  kernelPids(): number[];
  /** The server's output so far (it logs to stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails naming `what`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function argv(app: JupyterApp, port: number, token: string, root: string): string[] {
  const common = ["--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0"];
  // CI containers run as root, which both servers refuse without this.
  const asRoot = process.getuid?.() === 0 ? ["--allow-root"] : [];
  return app === "jupyter_server"
    ? ["-m", "jupyter_server", ...common, `--ServerApp.token=${token}`, `--ServerApp.root_dir=${root}`, ...asRoot]
    : ["-m", "notebook", ...common, `--NotebookApp.token=${token}`, `--notebook-dir=${root}`, ...asRoot];
}

/** PIDs whose argv names a file in `dir`: a kernel's argv ends with its connection file. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmdline.split("\0").some((arg) => arg.startsWith(dir + "/")) && isRunning(Number(entry))) pids.push(Number(entry));
  }
  return pids;
}

export async function startJupyter(app: JupyterApp): Promise<RunningJupyter> {
  const dir = mkdtempSync(join(tmpdir(), `kbook-${app}-`));
  const root = join(dir, "root");
  const runtime = join(dir, "runtime");
  // The root must exist before the server starts.
  mkdirSync(root);
  const [port, dataDir] = [await freePort(), ensureProjectKernelSpec()];
  const token = randomBytes(24).toString("hex");
  const baseUrl = `http://127.0.0.1:${port}/`;
  let output = "";
  const server: ResultPromise = execa(JUPYTER_PYTHON, argv(app, port, token, root), {
    env: {
      JUPYTER_PATH: jupyterPathWith(dataDir),
      JUPYTER_CONFIG_DIR: join(dir, "config"),
      JUPYTER_DATA_DIR: join(dir, "data"),
      JUPYTER_RUNTIME_DIR: runtime,
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
    },
    reject: false,
    stdin: "ignore",
    all: true,
  });
  server.all?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  void server.then(() => (exited = true));

  const api = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, baseUrl), { ...init, headers: { Authorization: `token ${token}`, "Content-Type": "application/json", ...init.headers } });

  const stop = async () => {
    try {
      if (!exited) {
        const kernels = await api("api/kernels").then((r) => (r.ok ? (r.json() as Promise<{ id: string }[]>) : []), () => []);
        await Promise.all(kernels.map((k) => api(`api/kernels/${k.id}`, { method: "DELETE" }).catch(() => undefined)));
        server.kill("SIGTERM");
        const timer = setTimeout(() => server.kill("SIGKILL"), 15_000);
        await server;
        clearTimeout(timer);
      }
      for (const pid of processesUsing(runtime)) process.kill(pid, "SIGKILL");
      await waitUntil("left-over kernels to end", () => processesUsing(runtime).length === 0, 10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    await waitUntil(
      `${app} to answer on ${baseUrl}`,
      async () => {
        if (exited) throw new Error(`${app} exited while starting:\n${output.slice(-2000)}`);
        return api("api/status").then((r) => r.ok, () => false);
      },
      60_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, token, baseUrl, root, api, kernelPids: () => processesUsing(runtime), log: () => output, stop };
}

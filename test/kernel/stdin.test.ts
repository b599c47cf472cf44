/**
 * input() and password() in cells, through Jupyter's stdin channel, driven by the real
 * jupyter_client (Debian's python3-jupyter-client): its execute_interactive answers each
 * input_request through a stdin hook, as a frontend does; with allow_stdin false the cell
 * gets a clear error instead of hanging.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { execa } from "execa";
import { ensureProjectKernelSpec, jupyterPathWith } from "../../lib/notebooks/kernelspec.js";

const CLIENT = `
import json, sys
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="kbook", startup_timeout=60)
prompts, streams = [], []

def answer(msg):
    c = msg["content"]
    prompts.append({"prompt": c["prompt"], "password": c["password"]})
    kc.input("secret" if c["password"] else "Ada")

def output(msg):
    if msg["msg_type"] == "stream":
        streams.append(msg["content"]["text"])
    elif msg["msg_type"] == "error":
        streams.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])

try:
    code = 'console.log("before"); const name = await input("Your name? "); const pw = await password("Password: "); console.log("hello " + name + ", " + pw.length + " characters")'
    reply = kc.execute_interactive(code, allow_stdin=True, stdin_hook=answer, output_hook=output, timeout=60)
    first = {"status": reply["content"]["status"], "prompts": prompts, "streams": streams}
    streams = []
    reply = kc.execute_interactive('await input("Nobody to ask? ")', allow_stdin=False, output_hook=output, timeout=60)
    second = {"status": reply["content"]["status"], "streams": streams}
    streams = []
    reply = kc.execute_interactive("name", output_hook=output, timeout=60)
    print(json.dumps({"first": first, "second": second, "after": reply["content"]["status"], "afterStreams": streams}))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
`;

describe("input() and password() over the stdin channel", () => {
  let outcome: {
    first: { status: string; prompts: { prompt: string; password: boolean }[]; streams: string[] };
    second: { status: string; streams: string[] };
    after: string;
  };

  beforeAll(async () => {
    const dataDir = ensureProjectKernelSpec();
    const child = await execa("/usr/bin/python3", ["-c", CLIENT], { env: { JUPYTER_PATH: jupyterPathWith(dataDir) }, reject: false, timeout: 120_000 });
    const last = String(child.stdout).trim().split("\n").pop() ?? "";
    if (!last.startsWith("{")) throw new Error(`the client did not finish:\n${child.stdout}\n${child.stderr}`);
    outcome = JSON.parse(last);
  }, 150_000);

  test("asks with the prompt, hides a password, and the cell gets what was typed", () => {
    expect(outcome.first.status, JSON.stringify(outcome)).toBe("ok");
    expect(outcome.first.prompts).toEqual([
      { prompt: "Your name? ", password: false },
      { prompt: "Password: ", password: true },
    ]);
    expect(outcome.first.streams.join("")).toBe("before\nhello Ada, 6 characters\n");
  });

  test("a frontend that takes no input gets a clear error, and the kernel goes on", () => {
    expect(outcome.second.status).toBe("error");
    expect(outcome.second.streams.join("")).toMatch(/This frontend does not take input \(its execute_request has allow_stdin: false\), so input\("Nobody to ask\? "\) cannot ask/);
    expect(outcome.after).toBe("ok");
  });
});

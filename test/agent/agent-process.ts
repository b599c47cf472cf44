/**
 * The real agent, compiled by buildAgent() and run on the host with --stdio, with an
 * AgentClient over its stdin/stdout: the same code paths as in a guest, minus the virtio port.
 */
import { execa, type ResultPromise } from "execa";
import { Duplex, type Readable } from "node:stream";
import { AgentClient, buildAgent, type AgentClientOptions } from "../../lib/agent/index.js";

export interface AgentUnderTest {
  client: AgentClient;
  process: ResultPromise<{ stdin: "pipe"; stdout: "pipe"; stderr: "pipe"; reject: false; buffer: false }>;
  /** Raw access to the agent's stdin, for injecting bytes the client would never send. */
  writeRaw(bytes: Uint8Array): void;
  stop(): Promise<void>;
}

export async function startAgent(
  options: AgentClientOptions & {
    /** Wraps the agent's stdout before the client reads it (slow readers, injected bytes). */
    readable?: (agentStdout: Readable) => Readable;
    /**
     * Start the agent with SIGINT and SIGQUIT ignored, as `/sbin/kbook-agent &` in an init
     * script does (POSIX: a non-interactive shell's background jobs ignore them).
     */
    asBackgroundJob?: boolean;
  } = {},
): Promise<AgentUnderTest> {
  const binary = await buildAgent();
  const [file, args] = options.asBackgroundJob
    ? ["/bin/sh", ["-c", `trap '' INT QUIT; exec "$0" --stdio`, binary]]
    : [binary, ["--stdio"]];
  const child = execa(file, args, { stdin: "pipe", stdout: "pipe", stderr: "pipe", reject: false, buffer: false });
  const readable = options.readable ? options.readable(child.stdout) : child.stdout;
  const client = new AgentClient(Duplex.from({ readable, writable: child.stdin }), options);
  return {
    client,
    process: child,
    writeRaw: (bytes) => child.stdin.write(bytes),
    async stop() {
      client.close();
      child.kill("SIGKILL");
      await child;
    },
  };
}

/**
 * npm run bench:agent — the command channel, first without a VM: the real agent on the host
 * with --stdio, so the figures are the protocol's and the agent's own cost (exec round trips,
 * median of BENCH_RUNS; transfer throughput for BENCH_MB of random data). Then in guests: 1,000
 * queued execs (300 in flight) on busybox, copy throughput in and out, and a soak of
 * BENCH_SOAK_S seconds (default 600) of mixed work on Debian — execs, copies, bpftrace runs —
 * with the host process's RSS before and after (run with --expose-gc: npm run bench:agent).
 */
import { execa } from "execa";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { AgentClient, buildAgent } from "../lib/agent/index.js";
import { bootVm } from "../lib/boot/index.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const MB = Number(process.env.BENCH_MB ?? 64);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function timeRuns(label: string, run: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 10; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
  console.log(`${label.padEnd(28)} median ${median(times).toFixed(2)} ms, p90 ${p90.toFixed(2)} ms (${RUNS} runs)`);
}

async function throughput(label: string, bytes: number, run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label.padEnd(28)} ${(bytes / 1e6 / seconds).toFixed(0)} MB/s (${bytes / 1e6} MB in ${(seconds * 1000).toFixed(0)} ms)`);
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

const agent = execa(await buildAgent(), ["--stdio"], { stdin: "pipe", stdout: "pipe", reject: false, buffer: false });
const client = new AgentClient(Duplex.from({ readable: agent.stdout, writable: agent.stdin }));
const dir = await mkdtemp(join(tmpdir(), "kbook-bench-agent-"));
try {
  const hello = await client.waitReady({ timeoutMs: 10_000 });
  console.log(`agent ${hello.version}, host kernel ${hello.kernelRelease}`);
  await timeRuns("ping round trip", () => client.ping());
  await timeRuns("exec(['true'])", () => client.exec(["true"]));
  await timeRuns("exec('true') via /bin/sh", () => client.exec("true"));

  const data = randomBytes(MB * 1024 * 1024);
  const source = join(dir, "source.bin");
  const copied = join(dir, "copied.bin");
  await writeFile(source, data);
  await throughput("copyIn", data.length, () => client.copyIn(source, copied));
  if (sha256(await readFile(copied)) !== sha256(data)) throw new Error("copyIn corrupted the data");
  let out: Uint8Array = new Uint8Array(0);
  await throughput("copyOut", data.length, async () => (out = await client.copyOut(copied)));
  if (sha256(out) !== sha256(data)) throw new Error("copyOut corrupted the data");
  const parallel = 4;
  await throughput(`${parallel} concurrent copyOut`, parallel * data.length, () =>
    Promise.all(Array.from({ length: parallel }, () => client.copyOut(copied))),
  );
} finally {
  client.close();
  agent.kill("SIGKILL");
  await agent;
  await rm(dir, { recursive: true, force: true });
}

// ---- in guests ---------------------------------------------------------------------------------

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

{
  const vm = await bootVm({ image: "busybox" });
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 300 }, async () => {
        while (next < 1000) {
          const i = next++;
          const r = await vm.exec(["echo", String(i)]);
          if (r.stdout !== `${i}\n`) throw new Error(`exec ${i} came back wrong`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`busybox guest: 1,000 execs, 300 in flight  ${(1000 / seconds).toFixed(0)} commands/s (${(seconds * 1000).toFixed(0)} ms)`);
    const data = randomBytes(32 << 20);
    await throughput("busybox guest: copyIn", data.length, () => vm.copyIn(data, "/tmp/bench.bin"));
    let back: Uint8Array = new Uint8Array(0);
    await throughput("busybox guest: copyOut", data.length, async () => (back = await vm.copyOut("/tmp/bench.bin")));
    if (sha256(back) !== sha256(data)) throw new Error("guest copy corrupted the data");
  } finally {
    await vm.shutdown();
  }
}

{
  const soakSeconds = Number(process.env.BENCH_SOAK_S ?? 600);
  const vm = await bootVm({ image: "debian" });
  try {
    const round = async (i: number) => {
      await Promise.all(Array.from({ length: 50 }, (_, j) => vm.exec(["echo", String(j)])));
      const data = randomBytes(1 << 20);
      await vm.copyIn(data, "/tmp/soak");
      if (sha256(await vm.copyOut("/tmp/soak")) !== sha256(data)) throw new Error("soak copy corrupted the data");
      if (i % 20 === 0) await vm.bpftrace("kprobe:do_sys_openat2 { @[comm] = count(); }", { duration: 1000 });
    };
    for (let i = 0; i < 5; i++) await round(i + 1);
    gc();
    const before = process.memoryUsage();
    const end = Date.now() + soakSeconds * 1000;
    let rounds = 0;
    while (Date.now() < end) await round(rounds++);
    gc();
    const after = process.memoryUsage();
    console.log(
      `debian guest soak: ${soakSeconds} s, ${rounds} rounds (${rounds * 52} commands, ${rounds * 2} MiB copied, ${Math.ceil(rounds / 20)} bpftrace runs): ` +
        `RSS ${mib(before.rss)} → ${mib(after.rss)} (${after.rss >= before.rss ? "+" : ""}${mib(after.rss - before.rss)}), heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)}`,
    );
  } finally {
    await vm.shutdown();
  }
}

/**
 * Saved states: a booted guest's memory and device state (a QEMU migration stream) and its disk
 * as it was at that moment (a qcow2 layer over the image's base disk), kept in
 * `$KBOOK_CACHE/states/<key>/` so that later boots of the same configuration resume in a fraction
 * of a second instead of booting.
 *
 * The key covers everything that makes a state invalid: the QEMU machine line (memory, smp,
 * accelerator, devices, kernel command line) with the per-VM paths taken out, the contents of
 * the kernel and initrd, the guest kit, the base disk, the QEMU version, and the host CPU under
 * KVM. A state directory appears only by the atomic rename of a finished save, its files are
 * read-only, and each file's sha256 is in its manifest: a resume checks the stream against it
 * before the guest runs a single instruction.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { delimiter, join, relative } from "node:path";
import { buildQemuArgv } from "./argv.js";
import { guestKit } from "./kit.js";
import { qemuPlanOf, type BootDecision } from "./plan.js";
import { cacheRoot } from "../paths.js";
import { runTool } from "../system/run.js";
import { sha256File } from "../system/hash.js";

/** Bumped when what a state holds or how it is keyed changes. */
const STATE_FORMAT = 1;

export interface SavedStateManifest {
  format: typeof STATE_FORMAT;
  key: string;
  createdAt: string;
  /** The image it was booted from (its directory and kind), for `kbook image rm` and people. */
  image: { dir: string; kind: string };
  /** The kernel that booted: its file and `uname -r`. */
  kernel: { path: string; release: string; own: boolean };
  memoryMb: number;
  smp: number;
  accel: "kvm" | "tcg";
  append: string;
  qemuVersion: string;
  /** The migration stream. */
  state: { file: string; bytes: number; sha256: string };
  /** The disk layer as it was when the state was saved (absent for initramfs-only images). */
  disk?: { file: string; bytes: number; sha256: string };
  /** The console as it was when the state was saved (the boot messages). */
  console: string;
  /** How long the cold boot took, and the save. */
  bootMs: number;
  saveMs: number;
}

export interface SavedState {
  dir: string;
  manifest: SavedStateManifest;
  /** Bytes on disk (the stream, the disk layer, the console log). */
  bytes: number;
  /** When it was last resumed (or saved). */
  lastUsed: Date;
}

export function statesDir(): string {
  return join(cacheRoot(), "states");
}

/** The paths of a state's files. */
export function stateFiles(state: SavedState): { stream: string; disk?: string; console: string } {
  const m = state.manifest;
  return { stream: join(state.dir, m.state.file), disk: m.disk && join(state.dir, m.disk.file), console: join(state.dir, m.console) };
}

async function readState(dir: string): Promise<SavedState | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as SavedStateManifest;
    if (manifest.format !== STATE_FORMAT) return undefined;
    const info = await stat(dir);
    const bytes = manifest.state.bytes + (manifest.disk?.bytes ?? 0);
    return { dir, manifest, bytes, lastUsed: info.mtime };
  } catch {
    return undefined;
  }
}

/** The saved state with this key, if there is one. */
export function findSavedState(key: string): Promise<SavedState | undefined> {
  return readState(join(statesDir(), key));
}

/** Every saved state in the cache, most recently used first. */
export async function listSavedStates(): Promise<SavedState[]> {
  const names = await readdir(statesDir()).catch(() => [] as string[]);
  const states: SavedState[] = [];
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const state = await readState(join(statesDir(), name));
    if (state) states.push(state);
  }
  return states.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
}

/**
 * Removes a saved state. It is renamed away first, so a boot looking for it never sees half of
 * it; guests resumed from it keep running (their QEMU holds the files open).
 */
export async function removeSavedState(state: SavedState): Promise<void> {
  const trash = join(statesDir(), `.rm-${state.manifest.key}-${process.pid}-${Date.now()}`);
  try {
    await rename(state.dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
}

/** Removes the saved states booted from an image directory (when the image is removed). */
export async function removeSavedStatesOf(imageDir: string): Promise<SavedState[]> {
  const removed = (await listSavedStates()).filter((s) => s.manifest.image.dir === imageDir);
  for (const state of removed) await removeSavedState(state);
  return removed;
}

/** Marks a state as just used (its directory's mtime), for the least-recently-used pruning. */
export async function touchSavedState(state: SavedState): Promise<void> {
  const now = new Date();
  await utimes(state.dir, now, now).catch(() => undefined);
}

/** The most bytes saved states may take (KBOOK_STATE_CACHE_MB, default 4096 MiB). */
export function stateCacheLimit(): number {
  const mb = Number(process.env.KBOOK_STATE_CACHE_MB);
  return (Number.isFinite(mb) && mb > 0 ? mb : 4096) * 1024 * 1024;
}

/**
 * Removes the least recently used states until the rest fit the limit, never `keep` (the one
 * just saved). Also removes what interrupted saves and removals left behind.
 */
export async function pruneSavedStates(keep?: string, limit = stateCacheLimit()): Promise<SavedState[]> {
  const { isAlive } = await import("../system/process.js");
  for (const name of await readdir(statesDir()).catch(() => [] as string[])) {
    const m = /^\.(save|rm)-.*-(\d+)-\d+$/.exec(name);
    if (m && !isAlive(Number(m[2]))) await rm(join(statesDir(), name), { recursive: true, force: true });
  }
  const states = await listSavedStates();
  let total = states.reduce((sum, s) => sum + s.bytes, 0);
  const removed: SavedState[] = [];
  for (const state of [...states].reverse()) {
    if (total <= limit) break;
    if (state.manifest.key === keep) continue;
    await removeSavedState(state);
    total -= state.bytes;
    removed.push(state);
  }
  return removed;
}

// ---- keys --------------------------------------------------------------------------------------

interface Fingerprint {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  value: string;
}

function fingerprintsFile(): string {
  return join(statesDir(), ".fingerprints.json");
}

let fingerprints: Promise<Record<string, Fingerprint>> | undefined;
let fingerprintsRoot: string | undefined;

function loadFingerprints(): Promise<Record<string, Fingerprint>> {
  if (fingerprintsRoot !== statesDir()) {
    fingerprintsRoot = statesDir();
    fingerprints = readFile(fingerprintsFile(), "utf8")
      .then((text) => JSON.parse(text) as Record<string, Fingerprint>)
      .catch(() => ({}));
  }
  return fingerprints!;
}

/**
 * A fact about a file that costs time to learn (its sha256, QEMU's version), remembered with the
 * file's identity (device, inode, size, modification and change times, in nanoseconds) so it
 * is learnt again only when the file changes.
 */
async function fileFact(kind: string, path: string, learn: () => Promise<string>): Promise<string> {
  const info = await stat(path, { bigint: true });
  const id = { dev: Number(info.dev), ino: Number(info.ino), size: Number(info.size), mtimeNs: String(info.mtimeNs), ctimeNs: String(info.ctimeNs) };
  const known = await loadFingerprints();
  const name = `${kind}:${path}`;
  const entry = known[name];
  if (entry && entry.dev === id.dev && entry.ino === id.ino && entry.size === id.size && entry.mtimeNs === id.mtimeNs && entry.ctimeNs === id.ctimeNs) {
    return entry.value;
  }
  const value = await learn();
  known[name] = { ...id, value };
  // Written whole and renamed: a reader never sees half a file; a lost update is only relearnt.
  await mkdir(statesDir(), { recursive: true });
  const tmp = `${fingerprintsFile()}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(known));
  await rename(tmp, fingerprintsFile());
  return value;
}

/** The sha256 of a file's contents: from the image's manifest when it lists it, else learnt once. */
function contentHash(decision: BootDecision, path: string): Promise<string> {
  const listed = decision.image.hashes?.[relative(decision.image.dir, path)];
  return listed ? Promise.resolve(listed) : fileFact("sha256", path, () => sha256File(path));
}

/** The QEMU binary on PATH, as QEMU itself would be found. */
async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await stat(candidate).then((s) => s.isFile(), () => false)) return candidate;
  }
  return undefined;
}

/** `qemu-system-x86_64 --version`'s first line, learnt once per binary. */
export async function qemuVersion(qemu: string): Promise<string> {
  const binary = await findOnPath(qemu);
  const ask = async () => (await runTool(qemu, ["--version"], { stage: "qemu --version" })).stdout.split("\n")[0]!.trim();
  return binary ? fileFact("version", binary, ask) : ask();
}

/** What the host CPU is, for KVM (whose guest CPU is the host's): model and flags. */
async function hostCpu(): Promise<string> {
  const info = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  const first = info.split("\n\n")[0] ?? "";
  return first
    .split("\n")
    .filter((l) => /^(vendor_id|cpu family|model|model name|stepping|microcode|flags)\s*:/.test(l))
    .join("\n");
}

/**
 * The saved-state key of a boot decision: a hash over its machine line with the per-VM paths
 * replaced by placeholders, the contents of what boots, and QEMU's version.
 */
export async function stateKey(decision: BootDecision): Promise<string> {
  const { sources, kernel } = decision;
  const machine = buildQemuArgv(
    qemuPlanOf(decision, { runDir: "<run>", initrd: sources.initrd ? "<initrd>" : undefined, disk: sources.disk ? "<disk>" : undefined }),
  ).map((word) => word.replace(decision.kernel.path, "<kernel>"));
  const [kernelHash, initrdHash, kit, version, cpu] = await Promise.all([
    contentHash(decision, kernel.path),
    sources.initrd ? contentHash(decision, sources.initrd) : undefined,
    sources.kit ? guestKit(sources.kit).then((k) => k.hash) : undefined,
    qemuVersion(machine[0]!),
    decision.accel === "kvm" ? hostCpu() : undefined,
  ]);
  let disk: unknown;
  if (sources.disk) {
    // The base disk by path (the saved layer names it as its backing file) and by content: the
    // image manifest's hash, or the file's identity (base disks are read-only by construction).
    const listed = decision.image.hashes?.[relative(decision.image.dir, sources.disk.path)];
    const info = listed ? undefined : await stat(sources.disk.path, { bigint: true });
    disk = { path: sources.disk.path, format: sources.disk.format, content: listed ?? `${info!.dev}:${info!.ino}:${info!.size}:${info!.mtimeNs}` };
  }
  const inputs = { format: STATE_FORMAT, machine, kernelHash, initrdHash, kit, disk, version, cpu };
  return `${decision.image.kind}-${createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 20)}`;
}

/** Why a boot cannot resume from or save a state, or undefined when it can. */
export function coldReason(options: { cold?: boolean; paused?: boolean; share?: unknown }): string | undefined {
  if (options.cold) return "asked for a cold boot";
  if (options.paused) return "paused at the first instruction for gdb";
  // A mounted virtio-9p export blocks migration in QEMU.
  if (options.share) return "a shared folder cannot be saved with the guest";
  if (process.env.KBOOK_RESUME === "0") return "KBOOK_RESUME=0";
  return undefined;
}

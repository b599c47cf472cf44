/**
 * Kernel module dependency resolution without depmod/modinfo: a .ko file's `.modinfo` section
 * holds NUL-separated `key=value` strings, among them `name=` and `depends=`. Reading them
 * directly lets kbook pick the handful of modules an initramfs needs from a kernel package it
 * has only unpacked (no depmod run, no modules.dep).
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { KbookError } from "../errors/index.js";

/** The agent's port (virtio-serial on PCI): modules in Debian's kernel, loaded at every boot. */
export const AGENT_MODULES = ["virtio_pci", "virtio_console"];
/** Host folder shares (9p over virtio): loaded only when a folder is shared. */
export const SHARE_MODULES = ["9pnet_virtio", "9p"];

/** Module name → { path, depends } for every .ko under a modules tree. */
export type ModuleIndex = Map<string, { path: string; depends: string[] }>;

/** Extracts `name` and `depends` from a module's bytes. */
export function readModinfo(bytes: Uint8Array): { name?: string; depends: string[] } {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  const field = (key: string): string | undefined => {
    const at = text.indexOf(`\0${key}=`);
    if (at < 0) return undefined;
    const start = at + key.length + 2;
    return text.slice(start, text.indexOf("\0", start));
  };
  const depends = field("depends");
  return { name: field("name"), depends: depends ? depends.split(",").filter(Boolean) : [] };
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith(".ko")) yield path;
  }
}

/** Indexes the modules under `/lib/modules/<release>` of an unpacked kernel. */
export async function indexModules(modulesDir: string): Promise<ModuleIndex> {
  const index: ModuleIndex = new Map();
  for await (const path of walk(modulesDir)) {
    const base = path.slice(path.lastIndexOf("/") + 1, -3);
    // The file name uses '-' where the module name may use '_' (and vice versa); the kernel treats them alike.
    const name = base.replace(/-/g, "_");
    index.set(name, { path, depends: [] });
  }
  return index;
}

/**
 * The modules to load, dependencies first, for the wanted module names. Modules built into the
 * kernel are simply absent from the index: they are skipped when `optional` lists them.
 */
export async function resolveModules(index: ModuleIndex, wanted: readonly string[], optional: readonly string[] = []): Promise<string[]> {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = async (raw: string, chain: string[]): Promise<void> => {
    const name = raw.replace(/-/g, "_");
    if (seen.has(name)) return;
    const entry = index.get(name);
    if (!entry) {
      if (optional.includes(raw) || chain.length > 0) return; // built in, or an optional dependency
      throw new KbookError(`Kernel module '${raw}' is not in the kernel package.`, {
        hint: "The kernel may have it built in; if the guest fails to find its disk or agent port, use a kernel with this module.",
      });
    }
    seen.add(name);
    const info = readModinfo(await readFile(entry.path));
    entry.depends = info.depends;
    for (const dep of info.depends) await visit(dep, [...chain, name]);
    order.push(entry.path);
  };
  for (const name of [...wanted, ...optional]) await visit(name, []);
  return order;
}

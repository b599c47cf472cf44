/**
 * Reading the Debian mirror this machine is configured with, so image builds use the same
 * (possibly local or snapshot) mirror apt uses, from both one-line and deb822 source files.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";

export const FALLBACK_MIRROR = "http://deb.debian.org/debian";

/** The first `deb` URI serving `suite` (or any Debian suite) with component main. Pure. */
export function mirrorFromSources(files: { name: string; text: string }[], suite = "bookworm"): string | undefined {
  const candidates: { uri: string; suites: string[] }[] = [];
  for (const { name, text } of files) {
    if (name.endsWith(".sources")) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (key: string) => new RegExp(`^${key}:\\s*(.+)$`, "mi").exec(stanza)?.[1]?.trim();
        const types = field("Types")?.split(/\s+/) ?? [];
        if (!types.includes("deb") || /^Enabled:\s*no/im.test(stanza)) continue;
        const components = field("Components")?.split(/\s+/) ?? [];
        if (!components.includes("main")) continue;
        for (const uri of field("URIs")?.split(/\s+/) ?? []) candidates.push({ uri, suites: field("Suites")?.split(/\s+/) ?? [] });
      }
    } else if (name.endsWith(".list")) {
      for (const line of text.split("\n")) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
        if (m && m[3]!.split(/\s+/).includes("main")) candidates.push({ uri: m[1]!, suites: [m[2]!] });
      }
    }
  }
  // Security and updates archives carry only part of a release: prefer the plain suite.
  const plain = candidates.find((c) => c.suites.includes(suite) && !/security/.test(c.uri));
  return (plain ?? candidates.find((c) => !/security/.test(c.uri)))?.uri.replace(/\/+$/, "");
}

/** The mirror configured in /etc/apt, or deb.debian.org. */
export async function configuredMirror(suite = "bookworm", etcApt = "/etc/apt"): Promise<string> {
  const files: { name: string; text: string }[] = [];
  const add = async (path: string) => {
    try {
      files.push({ name: path, text: await readFile(path, "utf8") });
    } catch {
      /* absent */
    }
  };
  await add(join(etcApt, "sources.list"));
  try {
    for (const name of (await readdir(join(etcApt, "sources.list.d"))).sort()) await add(join(etcApt, "sources.list.d", name));
  } catch {
    /* absent */
  }
  return mirrorFromSources(files, suite) ?? FALLBACK_MIRROR;
}

/** Package versions from a dpkg status file (the rootfs's /var/lib/dpkg/status). Pure. */
export function dpkgVersions(status: string, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const stanza of status.split(/\n\n+/)) {
    const pkg = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    if (pkg && version && names.includes(pkg) && /^Status:.*installed/m.test(stanza)) out[pkg] = version;
  }
  return out;
}

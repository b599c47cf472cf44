import type { Command, ParsedArgs } from "../command.js";
import { stringOption } from "../command.js";
import type { ImageSpec } from "../../images/index.js";

/** The image library, loaded when a command runs (kbook's other commands start faster without it). */
const images = () => import("../../images/index.js");
import { terminalProgress } from "../progress.js";
import { formatBytes } from "../../progress/index.js";
import { UsageError } from "../../errors/index.js";
import { describeState } from "./snapshot.js";

const recipeOptions = {
  package: { type: "string", multiple: true, value: "NAME", description: "extra package to install (debian; repeatable)" },
  mirror: { type: "string", value: "URL", description: "package mirror (default: the one in this machine's apt sources)" },
  suite: { type: "string", value: "SUITE", description: "Debian suite (default: bookworm)" },
  "disk-size": { type: "string", value: "SIZE", description: "root disk size, e.g. 2G" },
  "kernel-package": { type: "string", value: "PKG", description: "Debian kernel package (busybox)" },
  release: { type: "string", value: "REL", description: "Alpine release: latest-stable (default), edge, 3.21, 3.21.2 (alpine)" },
  method: { type: "string", value: "minirootfs|iso", description: "how to build Alpine: minirootfs + apk.static (default) or the article's setup-alpine from the ISO" },
  "kernel-flavor": { type: "string", value: "virt|lts", description: "Alpine kernel package linux-virt (default) or linux-lts (alpine)" },
  "iso-flavor": { type: "string", value: "virt|standard", description: "Alpine ISO for --method iso (alpine)" },
  "keys-dir": { type: "string", value: "DIR", description: "extra trusted Alpine signing keys, *.rsa.pub (alpine)" },
  hostname: { type: "string", value: "NAME", description: "guest hostname (alpine)" },
} as const;

/** The recipe spec from `kbook image build RECIPE --package … --mirror …`. */
export function specFromArgs(args: ParsedArgs, kind: string | undefined): ImageSpec {
  const spec: ImageSpec = { kind: kind ?? "debian" };
  const packages = args.values.package;
  if (Array.isArray(packages) && packages.length) spec.packages = packages;
  const flags = [
    ["mirror", "mirror"], ["suite", "suite"], ["disk-size", "diskSize"], ["kernel-package", "kernelPackage"], ["release", "release"],
    ["method", "method"], ["kernel-flavor", "kernel"], ["iso-flavor", "isoFlavor"], ["keys-dir", "keysDir"], ["hostname", "hostname"],
  ] as const;
  for (const [flag, key] of flags) {
    const v = stringOption(args, flag);
    if (v !== undefined) spec[key] = v;
  }
  return spec;
}


const build: Command = {
  name: "build",
  summary: "Build an image (or reuse the cached one) and print its directory",
  usage: "kbook image build [RECIPE] [options]",
  description:
    "Recipes: debian (default; bookworm with linux-image-amd64, linux-perf, bpftrace; needs root),\n" +
    "busybox (Debian's kernel + static busybox initramfs; no root, boots in seconds),\n" +
    "alpine (minirootfs + apk.static, or --method iso driving setup-alpine; needs root and an Alpine mirror).",
  options: { ...recipeOptions, force: { type: "boolean", description: "rebuild even if cached" } },
  async run(args) {
    const { buildImage } = await images();
    const image = await buildImage(specFromArgs(args, args.positionals[0]), { onProgress: terminalProgress("image"), force: Boolean(args.values.force) });
    process.stdout.write(image.dir + "\n");
    return 0;
  },
};

const list: Command = {
  name: "list",
  summary: "List built images",
  usage: "kbook image list [--json]",
  options: { json: { type: "boolean", description: "print JSON" } },
  async run(args) {
    const built = await (await images()).listImages();
    const { listSavedStates } = await import("../../vm/index.js");
    const states = await listSavedStates();
    const statesOf = (dir: string) => states.filter((s) => s.manifest.image.dir === dir);
    if (args.values.json) {
      const listed = built.map((image) => ({ ...image, savedStates: statesOf(image.dir).map((s) => ({ key: s.manifest.key, dir: s.dir, bytes: s.bytes, lastUsed: s.lastUsed })) }));
      process.stdout.write(JSON.stringify(listed, null, 2) + "\n");
      return 0;
    }
    if (!built.length) {
      process.stdout.write("No images yet. Build one with 'kbook image build' (debian) or 'kbook image build busybox'.\n");
      return 0;
    }
    for (const { dir, manifest } of built) {
      const allocated = Object.values(manifest.files).reduce((s, f) => s + f.allocatedBytes, 0);
      process.stdout.write(`${manifest.key}  kernel ${manifest.layout.kernelRelease}  ${formatBytes(allocated)}  built ${manifest.createdAt}  ${dir}\n`);
      for (const state of statesOf(dir)) process.stdout.write(`  saved state ${describeState(state)}\n`);
    }
    return 0;
  },
};

async function imageFor(args: ParsedArgs) {
  const name = args.positionals[0] ?? "debian";
  const { findImage, resolveImageSpec } = await images();
  const byKey = await findImage(name);
  if (byKey) return byKey;
  const { key } = await resolveImageSpec(specFromArgs(args, name));
  const image = await findImage(key);
  if (!image) throw new UsageError(`No built image for '${name}'.`, { hint: `Build it with 'kbook image build ${name}'.` });
  return image;
}

const path: Command = {
  name: "path",
  summary: "Print the directory of a built image",
  usage: "kbook image path [RECIPE|KEY] [options]",
  options: { ...recipeOptions },
  async run(args) {
    process.stdout.write((await imageFor(args)).dir + "\n");
    return 0;
  },
};

const rm: Command = {
  name: "rm",
  summary: "Remove a built image from the cache",
  usage: "kbook image rm [RECIPE|KEY] [options]",
  options: { ...recipeOptions },
  async run(args) {
    const image = await imageFor(args);
    const states = await (await images()).removeImage(image);
    for (const state of states) process.stdout.write(`removed saved state ${state.manifest.key} (${formatBytes(state.bytes)})\n`);
    process.stdout.write(`removed ${image.manifest.key}\n`);
    return 0;
  },
};

export const imageCommand: Command = {
  name: "image",
  summary: "Build, list, locate and remove guest images",
  usage: "kbook image build|list|path|rm [options]",
  options: {},
  subcommands: [build, list, path, rm],
};

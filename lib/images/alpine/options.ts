/**
 * The `alpine` recipe's options: a typed description, normalised so that equal recipes hash
 * equally. Normalising never touches the network (the recipe hash must be deterministic), so a
 * release given as "latest-stable" is resolved to a concrete version only at build time.
 */
import { UsageError } from "../../errors/index.js";

export const DEFAULT_ALPINE_MIRROR = "https://dl-cdn.alpinelinux.org/alpine";

/** Architectures Alpine publishes minirootfs tarballs and ISOs for that QEMU here can boot. */
export const ALPINE_ARCHES = ["x86_64"] as const;
export type AlpineArch = (typeof ALPINE_ARCHES)[number];

/** Kernel flavours: `virt` is the small one for VMs; `lts` is the full long-term kernel. */
export const ALPINE_KERNELS = ["virt", "lts"] as const;
export type AlpineKernel = (typeof ALPINE_KERNELS)[number];

/**
 * How the image is made. `minirootfs` (default): download the minirootfs tarball and install
 * packages into it with apk.static, no installer. `iso`: the article's route, booting the ISO
 * and driving setup-alpine unattended.
 */
export const ALPINE_METHODS = ["minirootfs", "iso"] as const;
export type AlpineMethod = (typeof ALPINE_METHODS)[number];

/** ISO flavours the `iso` method can boot: `virt` is ~60 MB, `standard` ~200 MB. */
export const ALPINE_ISO_FLAVORS = ["virt", "standard"] as const;
export type AlpineIsoFlavor = (typeof ALPINE_ISO_FLAVORS)[number];

export interface AlpineRecipe {
  kind: "alpine";
  method: AlpineMethod;
  /** "latest-stable", "edge", a branch ("3.21") or a point release ("3.21.2"). */
  release: string;
  arch: AlpineArch;
  /** Mirror base URL, the folder holding `latest-stable/`, `v3.21/`… */
  mirror: string;
  kernel: AlpineKernel;
  /** Packages beyond the base set, sorted and deduplicated. */
  packages: string[];
  /** Disk size for mke2fs / qemu-img, e.g. "2G". */
  diskSize: string;
  /** ISO flavour for the `iso` method. */
  isoFlavor: AlpineIsoFlavor;
  /**
   * Extra folder of trusted apk signing keys (`*.rsa.pub`), added to the keys kbook ships.
   * Not part of the image's identity beyond its path: the keys only decide what is accepted.
   */
  keysDir?: string;
  /** Root filesystem label and hostname of the guest. */
  hostname: string;
}

/** What every Alpine guest gets besides the kernel: OpenRC and the tracing tools. */
export const ALPINE_BASE_PACKAGES = ["alpine-base", "openrc", "perf", "bpftrace"];

/** The kernel package of a flavour. */
export function kernelPackage(kernel: AlpineKernel): string {
  return `linux-${kernel}`;
}

/** Every package the minirootfs route installs, in a stable order. */
export function alpinePackageList(recipe: Pick<AlpineRecipe, "kernel" | "packages">): string[] {
  return [...new Set([kernelPackage(recipe.kernel), ...ALPINE_BASE_PACKAGES, ...recipe.packages])];
}

// apk package names: letters, digits and + - . _ (e.g. py3-pip, g++, linux-lts).
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+._-]*$/;
const RELEASE = /^(latest-stable|edge|v?\d+\.\d+(\.\d+)?)$/;

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === "") return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`'${String(value)}' is not a valid ${name} for the alpine recipe.`, { hint: `Use one of: ${allowed.join(", ")}.` });
}

export function normalizeAlpineRecipe(options: Partial<AlpineRecipe> & Record<string, unknown>): AlpineRecipe {
  const rawPackages = options.packages === undefined ? [] : options.packages;
  if (!Array.isArray(rawPackages)) throw new UsageError("The alpine recipe's packages must be a list of package names.");
  const packages = [...new Set(rawPackages.map(String))].sort();
  for (const p of packages) {
    if (!PACKAGE_NAME.test(p)) throw new UsageError(`'${p}' is not an Alpine package name.`, { hint: "Package names are lower case letters, digits and + - . _" });
  }

  let release = typeof options.release === "string" && options.release ? options.release : "latest-stable";
  if (!RELEASE.test(release)) {
    throw new UsageError(`'${release}' is not an Alpine release.`, { hint: "Use latest-stable, edge, a branch like 3.21 or a release like 3.21.2." });
  }
  release = release.replace(/^v/, "");

  const mirror = typeof options.mirror === "string" && options.mirror ? options.mirror.replace(/\/+$/, "") : DEFAULT_ALPINE_MIRROR;
  if (!/^https?:\/\/[^/]+/.test(mirror)) throw new UsageError(`Mirror '${mirror}' is not an http:// or https:// URL.`);

  const diskSize = typeof options.diskSize === "string" && options.diskSize ? options.diskSize : "2G";
  if (!/^\d+[MG]$/.test(diskSize)) throw new UsageError(`Disk size '${diskSize}' should look like 2G or 1500M.`);

  const hostname = typeof options.hostname === "string" && options.hostname ? options.hostname : "kbook";
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(hostname)) throw new UsageError(`'${hostname}' is not a valid host name.`);

  const keysDir = typeof options.keysDir === "string" && options.keysDir ? options.keysDir : undefined;

  return {
    kind: "alpine",
    method: oneOf("method", options.method, ALPINE_METHODS, "minirootfs"),
    release,
    arch: oneOf("arch", options.arch, ALPINE_ARCHES, "x86_64"),
    mirror,
    kernel: oneOf("kernel", options.kernel, ALPINE_KERNELS, "virt"),
    packages,
    diskSize,
    isoFlavor: oneOf("ISO flavour", options.isoFlavor, ALPINE_ISO_FLAVORS, "virt"),
    keysDir,
    hostname,
  };
}

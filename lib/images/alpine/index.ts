/**
 * The `alpine` recipe: Alpine Linux, the distro of the article kbook follows, built unattended.
 * Default method: minirootfs + apk.static, no installer (minirootfs.ts). `method: "iso"`: the
 * article's route, setup-alpine driven over the serial console (installer.ts).
 */
import type { RecipeKind } from "../recipe.js";
import { buildAlpineFromIso } from "./installer.js";
import { buildAlpineFromMinirootfs } from "./minirootfs.js";
import { normalizeAlpineRecipe, type AlpineRecipe } from "./options.js";

export type { AlpineRecipe } from "./options.js";
export { DEFAULT_ALPINE_MIRROR, ALPINE_BASE_PACKAGES } from "./options.js";
export { MirrorUnreachableError, ReleaseNotFoundError, IntegrityError } from "./errors.js";

export const alpineRecipe: RecipeKind<AlpineRecipe> = {
  kind: "alpine",
  summary: "Alpine Linux (latest stable) with linux-virt, perf, bpftrace and OpenRC; minirootfs + apk.static, or --method iso",
  normalize: normalizeAlpineRecipe,
  // OpenRC starts the agent from the image itself (Alpine boots its own initramfs).
  bakesGuestKit: true,
  build(recipe, ctx) {
    return recipe.method === "iso" ? buildAlpineFromIso(recipe, ctx) : buildAlpineFromMinirootfs(recipe, ctx);
  },
};

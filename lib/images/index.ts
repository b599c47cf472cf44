export { buildImage, resolveImageSpec, recipeKind, builderVersion, type ImageSpec, type BuildOptions } from "./build.js";
export { listImages, findImage, readImageDir, removeImage, imagesDir, sha256File, type ImageManifest, type StoredImage } from "./store.js";
export { recipeKinds } from "./recipes.js";
export { canonicalJson, recipeKey, type ImageLayout, type RecipeKind, type BuildContext } from "./recipe.js";
export type { DebianRecipe } from "./debian.js";
export type { BusyboxRecipe } from "./busybox.js";
export type { AlpineRecipe } from "./alpine/index.js";

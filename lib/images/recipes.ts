/**
 * The registry of image recipes. A new distribution is one RecipeKind added here.
 */
import type { RecipeKind } from "./recipe.js";
import { debianRecipe } from "./debian.js";
import { busyboxRecipe } from "./busybox.js";
import { alpineRecipe } from "./alpine/index.js";

export function recipeKinds(): RecipeKind<{ kind: string }>[] {
  return [debianRecipe, busyboxRecipe, alpineRecipe] as unknown as RecipeKind<{ kind: string }>[];
}

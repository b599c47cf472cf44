import { describe, expect, it } from "vitest";
import { canonicalJson, recipeKey } from "../../lib/images/recipe.js";
import { debianRecipe } from "../../lib/images/debian.js";
import { busyboxRecipe } from "../../lib/images/busybox.js";
import { UsageError } from "../../lib/errors/index.js";

describe("recipe hashing", () => {
  it("is independent of key order and package order", () => {
    const a = debianRecipe.normalize({ packages: ["strace", "gdb"], mirror: "http://m/debian/" });
    const b = debianRecipe.normalize({ mirror: "http://m/debian", packages: ["gdb", "strace", "gdb"] });
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(recipeKey(a, "v1")).toBe(recipeKey(b, "v1"));
    expect(recipeKey(a, "v1")).toMatch(/^debian-[0-9a-f]{16}$/);
  });

  it("changes with anything that changes the image", () => {
    const base = debianRecipe.normalize({});
    const keys = new Set([
      recipeKey(base, "v1"),
      recipeKey(base, "v2"),
      recipeKey(debianRecipe.normalize({ packages: ["strace"] }), "v1"),
      recipeKey(debianRecipe.normalize({ diskSize: "4G" }), "v1"),
      recipeKey(busyboxRecipe.normalize({}), "v1"),
    ]);
    expect(keys.size).toBe(5);
  });

  it("rejects bad recipe options with a UsageError naming them", () => {
    expect(() => debianRecipe.normalize({ packages: ["gdb; rm -rf /"] })).toThrow(UsageError);
    expect(() => debianRecipe.normalize({ packages: ["gdb; rm -rf /"] })).toThrow(/not a Debian package name/);
    expect(() => debianRecipe.normalize({ diskSize: "lots" })).toThrow(/Disk size 'lots'/);
    expect(() => debianRecipe.normalize({ mirror: "ftp://x" })).toThrow(/not an http/);
    expect(() => busyboxRecipe.normalize({ kernelPackage: "vim" })).toThrow(/not a Debian kernel package/);
  });

  it("canonical JSON sorts nested keys and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
});

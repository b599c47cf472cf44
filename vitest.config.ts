import { defineConfig } from "vitest/config";

// Integration tests boot real QEMU guests under TCG on a 2-core machine: they are slow and
// must not run in parallel with each other, so files run one at a time.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    reporters: ["default"],
  },
});

import { defineConfig } from "vitest/config";
import { resolve } from "node:path";
import KernelLastSequencer from "./test/support/sequencer.js";

// Integration tests boot real QEMU guests under TCG on a 2-core machine: they are slow and
// must not run in parallel with each other, so files run one at a time. They build their images
// into a cache of their own (cold on a fresh checkout, so CI really builds them).
const cache = process.env.KBOOK_TEST_CACHE ?? resolve(".kbook/test-cache");

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 900_000,
    env: { KBOOK_CACHE: cache },
    // The files that need the learn kernel run last, its cold build started as the run begins.
    sequence: { sequencer: KernelLastSequencer },
  },
});

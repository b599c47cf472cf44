/**
 * The global through which compiled cells reach the kernel's runtime (`__kbookRuntime.import(…)`),
 * shared by the compiler (worker thread) and the runtime (main thread) without loading TypeScript
 * on the main thread.
 */
export const RUNTIME_GLOBAL = "__kbookRuntime";

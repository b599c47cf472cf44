/**
 * A synthetic profile for the benchmarks that need a big flame graph (export, sanitize): the
 * same deterministic folded stacks every run, deep and bushy like a real one.
 */

/** A deterministic pseudo-random generator (mulberry32), so every run draws the same graph. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Folded stacks whose merged call tree has about `frames` nodes. */
export function syntheticFolded(frames: number): string {
  const next = random(42);
  const verbs = ["do", "sys", "vfs", "ext4", "blk", "tcp", "ip", "sched", "mm", "irq", "page", "copy", "wake", "task"];
  const nouns = ["read", "write", "open", "tick", "fair", "alloc", "free", "fault", "send", "recv", "iter", "lock", "queue", "entry"];
  const name = () => `${verbs[Math.floor(next() * verbs.length)]}_${nouns[Math.floor(next() * nouns.length)]}_${Math.floor(next() * 400)}`;
  const lines: string[] = [];
  const seen = new Set<string>();
  while (seen.size < frames) {
    const depth = 4 + Math.floor(next() * 20);
    const stack = [["dd", "swapper", "kworker/u4:1", "bash", "perf"][Math.floor(next() * 5)]!];
    for (let d = 1; d < depth; d++) {
      // Reuse a prefix often, so the tree is deep and bushy like a real profile.
      stack.push(next() < 0.7 && d < 6 ? `common_${d}_${Math.floor(next() * 3)}` : name());
      seen.add(stack.join(";"));
    }
    lines.push(`${stack.join(";")} ${1 + Math.floor(next() * 50)}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Reading kbuild's output: the quiet lines (`  CC      fs/open.o`) count compiled objects for
 * progress, and on a failure the first compiler or linker error is what the user needs — not
 * the last screen, which is make unwinding ("make[2]: *** … Error 1") after the real error.
 * Pure functions over text.
 */

/** kbuild's quiet command lines that compile an object: `  CC      fs/open.o`, `  AS      …`. */
const COMPILE_LINE = /^ {2}(CC|AS|CC \[M\])\s+(\S+\.o)$/;
/** Lines that mark the link and its late passes, for a stage name. */
const STAGE_LINES: [RegExp, string][] = [
  [/^ {2}LD\s+vmlinux\.o$/, "linking vmlinux.o"],
  [/^ {2}BTF\s+/, "generating BTF (pahole)"],
  [/^ {2}KSYMS\s+|^ {2}KSYMS\s*$|\.tmp_vmlinux\.kallsyms/, "kallsyms passes"],
  [/^ {2}LD\s+vmlinux$/, "linking vmlinux"],
  [/^ {2}(OBJCOPY|LZMA|GZIP|ZSTD|XZKERN)\s+arch\/x86\/boot\/compressed\//, "compressing bzImage"],
  [/^Kernel: arch\/x86\/boot\/bzImage is ready/, "bzImage ready"],
];

export interface MakeProgress {
  /** Objects compiled so far. */
  compiled: number;
  /** The last stage recognised ("compiling" until the link starts). */
  stage: string;
  /** The object or file make is on. */
  current?: string;
}

/** Folds one output line into the progress; returns whether it changed. */
export function trackMakeLine(progress: MakeProgress, line: string): boolean {
  const compile = COMPILE_LINE.exec(line);
  if (compile) {
    progress.compiled++;
    progress.current = compile[2];
    if (progress.stage !== "compiling") progress.stage = "compiling";
    return true;
  }
  for (const [pattern, stage] of STAGE_LINES) {
    if (pattern.test(line)) {
      progress.stage = stage;
      return true;
    }
  }
  return false;
}

/** The first error of a failed build, with where it is. */
export interface BuildErrorReport {
  /** The error line as the compiler or linker printed it. */
  message: string;
  /** Source file and position, for compiler errors. */
  file?: string;
  line?: number;
  column?: number;
  /** The lines of compiler output that belong to the error (notes, the caret). */
  context: string[];
}

const COMPILER_ERROR = /^((?:\.{0,2}\/)?[^\s:][^:]*):(\d+):(?:(\d+):)? (?:fatal )?error: (.*)$/;
const LINKER_ERROR = /^(?:ld|[^\s:]*ld(?:\.bfd)?): .*(undefined reference|multiple definition|cannot find|error).*$|: undefined reference to /;
const OTHER_ERROR = /^(?:\S+: )?\*\*\* (?!\[).*|^ERROR: .*|^Error: .*|^pahole: .*|^BTF: .*failed|No space left on device/;

/** Finds the first real error in make's output, or undefined when there is none to name. */
export function firstBuildError(log: string): BuildErrorReport | undefined {
  const lines = log.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const compiler = COMPILER_ERROR.exec(line);
    if (compiler) {
      const context: string[] = [];
      for (let j = i + 1; j < lines.length && context.length < 8; j++) {
        const next = lines[j]!;
        if (/^ {2}[A-Z]+ /.test(next) || /^make(\[\d+\])?: /.test(next) || COMPILER_ERROR.test(next)) break;
        context.push(next);
      }
      return { message: line, file: compiler[1], line: Number(compiler[2]), column: compiler[3] ? Number(compiler[3]) : undefined, context };
    }
    if (LINKER_ERROR.test(line) || OTHER_ERROR.test(line)) return { message: line.trim(), context: [] };
  }
  return undefined;
}

/** "123 of about 1,150 objects" and an ETA from the rate so far. */
export function describeMakeProgress(progress: MakeProgress, expected: number | undefined, elapsedMs: number): { message: string; fraction?: number } {
  if (progress.stage !== "compiling" || !expected) {
    return { message: progress.stage === "compiling" ? `compiling: ${progress.compiled} objects${progress.current ? ` (${progress.current})` : ""}` : progress.stage };
  }
  const fraction = Math.min(progress.compiled / expected, 0.99);
  const etaMs = progress.compiled > 20 ? (elapsedMs / progress.compiled) * Math.max(expected - progress.compiled, 0) : undefined;
  const eta = etaMs === undefined ? "" : `, about ${etaMs < 120_000 ? `${Math.ceil(etaMs / 1000)} s` : `${Math.ceil(etaMs / 60_000)} min`} left`;
  return { message: `compiling ${progress.compiled} of about ${expected.toLocaleString("en-US")} objects${eta}${progress.current ? ` (${progress.current})` : ""}`, fraction };
}

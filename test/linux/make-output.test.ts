import { describe, expect, it } from "vitest";
import { describeMakeProgress, firstBuildError, trackMakeLine, type MakeProgress } from "../../lib/linux/make-output.js";

describe("kbuild output", () => {
  it("counts compiled objects and recognises the link stages", () => {
    const state: MakeProgress = { compiled: 0, stage: "compiling" };
    for (const line of ["  CC      fs/open.o", "  AS      arch/x86/entry/entry_64.o", "  HOSTCC  scripts/kallsyms", "  AR      fs/built-in.a", "  CC      init/main.o"]) trackMakeLine(state, line);
    expect(state).toEqual({ compiled: 3, stage: "compiling", current: "init/main.o" });
    trackMakeLine(state, "  LD      vmlinux.o");
    expect(state.stage).toBe("linking vmlinux.o");
    trackMakeLine(state, "  BTF     .btf.vmlinux.bin.o");
    expect(state.stage).toBe("generating BTF (pahole)");
    expect(describeMakeProgress({ compiled: 100, stage: "compiling" }, 1000, 10_000)).toEqual({ message: "compiling 100 of about 1,000 objects, about 90 s left", fraction: 0.1 });
  });

  it("finds the first compiler error, not make's unwinding after it", () => {
    const log = [
      "  CC      fs/namei.o",
      "  CC      fs/open.o",
      "/cache/linux/sources/debian/tree/fs/open.c: In function 'do_sys_openat2':",
      "/cache/linux/sources/debian/tree/fs/open.c:1337:9: error: 'fd_oops' undeclared (first use in this function)",
      " 1337 |         fd_oops = 1;",
      "      |         ^~~~~~~",
      "/cache/linux/sources/debian/tree/fs/open.c:1337:9: note: each undeclared identifier is reported only once",
      "make[3]: *** [/cache/linux/sources/debian/tree/scripts/Makefile.build:250: fs/open.o] Error 1",
      "make[2]: *** [/cache/linux/sources/debian/tree/scripts/Makefile.build:500: fs] Error 2",
      "make[1]: *** [/cache/linux/sources/debian/tree/Makefile:2012: .] Error 2",
    ].join("\n");
    const error = firstBuildError(log)!;
    expect(error).toMatchObject({ file: "/cache/linux/sources/debian/tree/fs/open.c", line: 1337, column: 9 });
    expect(error.message).toMatch(/error: 'fd_oops' undeclared/);
    expect(error.context[0]).toMatch(/fd_oops = 1;/);
    expect(error.context).toHaveLength(3); // the caret lines and the note; make's unwinding is left out
    expect(error.context.join("\n")).not.toMatch(/make\[/);
  });

  it("finds a linker error and says nothing for a clean log", () => {
    expect(firstBuildError("  LD      vmlinux.o\nld: fs/open.o: in function `do_sys_openat2':\nopen.c:(.text+0x1): undefined reference to `nope'\n")?.message).toMatch(/undefined reference to `nope'/);
    expect(firstBuildError("  CC      fs/open.o\nKernel: arch/x86/boot/bzImage is ready  (#1)\n")).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { listensOn } from "../../lib/vm/qemu-process.js";

const procNetTcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:10E1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0100007F:C350 0100007F:10E1 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1`;

describe("listensOn", () => {
  it("finds a LISTEN socket on 127.0.0.1 at the port", () => {
    expect(listensOn(procNetTcp, 4321)).toBe(true); // 0x10E1
  });
  it("ignores other addresses and non-listening sockets", () => {
    expect(listensOn(procNetTcp, 8080)).toBe(false); // 0x1F90 on 0.0.0.0
    expect(listensOn(procNetTcp, 50000)).toBe(false); // 0xC350 established
  });
});

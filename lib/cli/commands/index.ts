/**
 * The CLI's command list. Each command lives in its own file in this folder; add it here.
 */
import type { Command } from "../command.js";
import { doctorCommand } from "./doctor.js";
import { imageCommand } from "./image.js";
import { bootCommand } from "./boot.js";
import { startCommand } from "./start.js";
import { exportCommand } from "./export.js";
import { gdbCommand } from "./gdb.js";
import { kernelCommand } from "./kernel.js";
import { runCommand } from "./run.js";
import { collapseCommand } from "./collapse.js";
import { flamegraphCommand } from "./flamegraph.js";
import { diffFoldedCommand } from "./diff-folded.js";
import { bpftraceCommand } from "./bpftrace.js";
import { linuxCommand } from "./linux.js";
import { snapshotCommand } from "./snapshot.js";

export const commands: Command[] = [startCommand, doctorCommand, imageCommand, snapshotCommand, bootCommand, exportCommand, gdbCommand, linuxCommand, kernelCommand, runCommand, collapseCommand, flamegraphCommand, diffFoldedCommand, bpftraceCommand];

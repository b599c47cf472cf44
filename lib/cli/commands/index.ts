/**
 * The CLI's command list. Each command lives in its own file in this folder; add it here.
 */
import type { Command } from "../command.js";
import { doctorCommand } from "./doctor.js";
import { imageCommand } from "./image.js";
import { bootCommand } from "./boot.js";
import { startCommand } from "./start.js";

export const commands: Command[] = [startCommand, doctorCommand, imageCommand, bootCommand];

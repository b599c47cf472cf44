/**
 * `kbook snapshot`: the booted guests kbook saved so that later boots resume in a fraction of a
 * second (see lib/vm/saved-state.ts). They are made and used without being asked for; these
 * commands show them and remove them (`kbook image rm` removes an image's states with it).
 */
import type { Command } from "../command.js";
import { formatBytes } from "../../progress/index.js";
import { UsageError } from "../../errors/index.js";
import type { SavedState } from "../../vm/index.js";

const vm = () => import("../../vm/index.js");

/** One line about a state: key, size, what it boots, when it was last used. */
export function describeState(state: SavedState): string {
  const m = state.manifest;
  return [
    m.key,
    formatBytes(state.bytes),
    `${m.image.kind}${m.kernel.own ? ` + own kernel ${m.kernel.release}` : ` kernel ${m.kernel.release}`}`,
    `${m.memoryMb} MiB, ${m.smp} CPU${m.smp === 1 ? "" : "s"}, ${m.accel.toUpperCase()}`,
    `last used ${state.lastUsed.toISOString()}`,
  ].join("  ");
}

const list: Command = {
  name: "list",
  summary: "List saved guest states",
  usage: "kbook snapshot list [--json]",
  options: { json: { type: "boolean", description: "print JSON" } },
  async run(args) {
    const { listSavedStates, statesDir } = await vm();
    const states = await listSavedStates();
    if (args.values.json) {
      process.stdout.write(JSON.stringify(states, null, 2) + "\n");
      return 0;
    }
    if (!states.length) {
      process.stdout.write("No saved states yet: the first boot of each configuration saves one.\n");
      return 0;
    }
    for (const state of states) process.stdout.write(describeState(state) + "\n");
    const total = states.reduce((sum, s) => sum + s.bytes, 0);
    process.stdout.write(`${states.length} saved state${states.length === 1 ? "" : "s"}, ${formatBytes(total)} in ${statesDir()}\n`);
    return 0;
  },
};

const rm: Command = {
  name: "rm",
  summary: "Remove saved guest states (the next boot of each boots cold and saves anew)",
  usage: "kbook snapshot rm KEY... | --all",
  options: { all: { type: "boolean", description: "remove every saved state" } },
  async run(args) {
    const { listSavedStates, removeSavedState } = await vm();
    const states = await listSavedStates();
    if (args.values.all && args.positionals.length) throw new UsageError("Pass either keys or --all, not both.");
    if (!args.values.all && !args.positionals.length) throw new UsageError("Name the saved states to remove, or pass --all.", { hint: "'kbook snapshot list' shows their keys." });
    const chosen = args.values.all ? states : args.positionals.map((key) => {
      const state = states.find((s) => s.manifest.key === key);
      if (!state) throw new UsageError(`No saved state ${key}.`, { hint: "'kbook snapshot list' shows their keys." });
      return state;
    });
    for (const state of chosen) {
      await removeSavedState(state);
      process.stdout.write(`removed saved state ${state.manifest.key} (${formatBytes(state.bytes)})\n`);
    }
    return 0;
  },
};

export const snapshotCommand: Command = {
  name: "snapshot",
  summary: "List and remove saved guest states (what boots resume from)",
  usage: "kbook snapshot list|rm [options]",
  description:
    "After the first boot of a configuration (image, kernel, memory, CPUs, command line), kbook saves\n" +
    "the booted guest; later boots of it resume in under a second. --cold on a boot skips both.",
  options: {},
  subcommands: [list, rm],
};

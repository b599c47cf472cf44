import type { Command } from "../command.js";
import { bootVm } from "../../vm/index.js";
import { buildImage } from "../../images/index.js";
import { terminalProgress } from "../progress.js";

export const startCommand: Command = {
  name: "start",
  summary: "The main job (npm start): build the default image, boot it and show what is inside",
  usage: "kbook start",
  options: {},
  async run() {
    const image = await buildImage("debian", { onProgress: terminalProgress("image") });
    const vm = await bootVm({ image: image.dir, onProgress: terminalProgress("boot") });
    try {
      process.stdout.write(`qemu: ${vm.commandLine}\n`);
      await vm.exec("uname -a; perf --version; bpftrace --version", { onStdout: (c) => process.stdout.write(c), onStderr: (c) => process.stderr.write(c) });
    } finally {
      await vm.shutdown();
    }
    return 0;
  },
};

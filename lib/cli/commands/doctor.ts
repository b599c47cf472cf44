import type { Command } from "../command.js";

export const doctorCommand: Command = {
  name: "doctor",
  summary: "Check (and install) the system packages kbook needs; show the accelerator and perf sysctls",
  usage: "kbook doctor [--install] [--quiet]",
  options: {
    install: { type: "boolean", description: "install missing packages with apt-get (as root), or print the command to run" },
    quiet: { type: "boolean", short: "q", description: "print only problems" },
  },
  async run(args) {
    const { execa } = await import("execa");
    const { aptInstallArgv, formatDoctorReport, runDoctor } = await import("../../system/doctor.js");
    let report = await runDoctor();
    if (!args.values.quiet || report.missingPackages.length) process.stdout.write(formatDoctorReport(report));
    if (!report.missingPackages.length) return 0;
    const argv = aptInstallArgv(report.missingPackages);
    if (!args.values.install) {
      process.stdout.write(`\nMissing packages. Install them with:\n  sudo ${argv.join(" ")}\n(or run 'kbook doctor --install')\n`);
      return 1;
    }
    if (process.getuid?.() !== 0) {
      process.stdout.write(`\nkbook doctor --install needs root to run apt-get. Run:\n  sudo apt-get update && sudo ${argv.join(" ")}\n`);
      return 1;
    }
    process.stdout.write(`\nInstalling: ${report.missingPackages.join(" ")}\n`);
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    await execa("apt-get", ["update", "-q"], { stdio: "inherit", env });
    const r = await execa(argv[0]!, argv.slice(1), { stdio: "inherit", env, reject: false });
    if (r.exitCode !== 0) {
      process.stdout.write(`apt-get failed (exit ${r.exitCode}); see its output above.\n`);
      return 1;
    }
    report = await runDoctor();
    if (!args.values.quiet || report.missingPackages.length) process.stdout.write(formatDoctorReport(report));
    return report.missingPackages.length ? 1 : 0;
  },
};

import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Command } from "../command.js";
import { stringOption } from "../command.js";
import { KbookError } from "../../errors/index.js";
import { packageRoot } from "../../paths.js";
import { formatDuration } from "../../progress/index.js";
import { terminalProgress } from "../progress.js";

const ARTICLE = "00-reproduce-the-article.ipynb";

function say(message: string, started: number): void {
  process.stderr.write(`[start] ${formatDuration(Date.now() - started).padStart(8)}  ${message}\n`);
}

/** Installs missing system packages when root; otherwise explains and fails. */
async function ensureSystemPackages(started: number): Promise<void> {
  const { execa } = await import("execa");
  const { aptInstallArgv, formatDoctorReport, runDoctor } = await import("../../system/doctor.js");
  let report = await runDoctor();
  if (!report.missingPackages.length) {
    say(`system packages present; ${report.accel.accel.toUpperCase()} (${report.accel.reason})`, started);
    return;
  }
  process.stderr.write(formatDoctorReport(report));
  const argv = aptInstallArgv(report.missingPackages);
  if (process.getuid?.() !== 0) {
    throw new KbookError(`Missing system packages: ${report.missingPackages.join(" ")}.`, { hint: `Install them with: sudo apt-get update && sudo ${argv.join(" ")}` });
  }
  say(`installing ${report.missingPackages.join(" ")}`, started);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  await execa("apt-get", ["update", "-q"], { stdout: "ignore", stderr: "inherit", env });
  await execa(argv[0]!, argv.slice(1), { stdout: "ignore", stderr: "inherit", env });
  report = await runDoctor();
  if (report.missingPackages.length) throw new KbookError(`Still missing after apt-get: ${report.missingPackages.join(" ")}.`);
}

export const startCommand: Command = {
  name: "start",
  summary: "The main job (npm start): the article's notebook, headless, on the Debian guest, exported to HTML",
  usage: "kbook start [--out DIR] [--notebook NB.ipynb]",
  description:
    "Checks and installs system packages, builds the default Debian image (cached after the first\n" +
    "time), executes the notebook with progress on the terminal, exports it to one self-contained\n" +
    "HTML file, and prints the paths of the HTML and of the executed notebook.",
  options: {
    out: { type: "string", value: "DIR", description: "where to write the results (default: out/ in the project)" },
    notebook: { type: "string", value: "NB", description: `notebook to run (default: notebooks/${ARTICLE})` },
  },
  async run(args) {
    const started = Date.now();
    const { buildImage } = await import("../../images/index.js");
    const { runNotebook } = await import("../../notebooks/run.js");
    const { exportNotebookFile } = await import("../../export/index.js");
    await ensureSystemPackages(started);
    const image = await buildImage("debian", { onProgress: terminalProgress("image") });
    say(`image ${image.manifest.key} ${image.cached ? "(cached)" : "built"}`, started);

    const notebook = stringOption(args, "notebook") ?? join(packageRoot(), "notebooks", ARTICLE);
    const outDir = stringOption(args, "out") ?? join(packageRoot(), "out");
    await mkdir(outDir, { recursive: true });
    const executed = join(outDir, basename(notebook));
    say(`running ${basename(notebook)} headless (cells below; the guest boots in the first VM cell)`, started);
    const result = await runNotebook(notebook, { output: executed });
    for (const f of result.failures) process.stderr.write(`kbook: cell ${f.cell ?? "?"} failed: ${f.ename}: ${f.evalue}\n`);
    if (result.failures.length) throw new KbookError(`The notebook failed; its partial outputs are in ${result.saved}.`);

    const html = executed.replace(/\.ipynb$/, ".html");
    const exported = await exportNotebookFile(executed, html);
    say(`exported ${(exported.bytes / 1e6).toFixed(1)} MB of HTML`, started);
    process.stdout.write(`HTML:     ${exported.output}\nNotebook: ${executed}\n`);
    say(`done in ${formatDuration(Date.now() - started)}`, started);
    return 0;
  },
};

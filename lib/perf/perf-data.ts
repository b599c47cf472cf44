/**
 * perf.data on the host → folded stacks: `perf script -i FILE` streamed into the collapser, so
 * the text is never held in memory.
 */
import { execa } from "execa";
import { PerfScriptCollapser, type CollapseOptions } from "./collapse.js";
import type { CollapseResult } from "./collapse-input.js";
import { collapseProblem, collapseWarnings } from "./input.js";
import { perfFailure, perfWarnings } from "./perf-command.js";

export async function collapsePerfData(path: string, options: CollapseOptions = {}, perf = "perf"): Promise<CollapseResult> {
  const collapser = new PerfScriptCollapser(options);
  const script = execa(perf, ["script", "-i", path], { reject: false, stdin: "ignore", buffer: { stdout: false, stderr: true } });
  for await (const chunk of script.stdout!) collapser.push(chunk as Buffer);
  const result = await script;
  const stderr = String(result.stderr ?? "");
  if (result.exitCode !== 0) {
    throw perfFailure(`reading '${path}' (perf script)`, result.failed && result.code === "ENOENT" ? `${perf}: not found` : stderr, result.exitCode ?? null);
  }
  const folded = collapser.end();
  const problem = collapseProblem(collapser.stats, options.eventFilter, `The perf script output of '${path}'`);
  if (problem) throw problem;
  return { folded, stats: collapser.stats, warnings: [...perfWarnings(stderr), ...collapseWarnings(collapser.stats)] };
}

/**
 * The browser side of the front-end harness, bundled by esbuild from node_modules at test time
 * (harness.ts). Two ways to show nbformat outputs on one page:
 *
 * - JupyterLab 4's own code: a RenderMimeRegistry with the standard renderer factories and the
 *   Vega 5 extension's factory at the rank the extension registers (57), and an OutputArea over an
 *   OutputAreaModel, trusted or not, exactly as a notebook cell shows its outputs.
 * - VS Code's built-in renderer, imitated: the richest of text/html, image/svg+xml, image/png and
 *   text/plain; HTML and SVG set as innerHTML of a new element, then each <script> in it re-made
 *   from its `innerText` and type, appended to that element and removed again (what VS Code's
 *   notebook-renderers extension does; an SVG <script> has no innerText, so its copy runs nothing).
 */
import type * as nbformat from "@jupyterlab/nbformat";
import { OutputArea, OutputAreaModel } from "@jupyterlab/outputarea";
import { RenderMimeRegistry, standardRendererFactories } from "@jupyterlab/rendermime";
import { rendererFactory as vegaRendererFactory } from "@jupyterlab/vega5-extension";
import { Widget } from "@lumino/widgets";

const rendermime = new RenderMimeRegistry({ initialFactories: standardRendererFactories });
rendermime.addFactory(vegaRendererFactory, 57);

const models = new Map<string, OutputAreaModel>();

function section(label: string, kind: string): HTMLElement {
  const element = document.createElement("section");
  element.dataset.label = label;
  element.dataset.frontend = kind;
  document.body.appendChild(element);
  return element;
}

const VSCODE_ORDER = ["text/html", "image/svg+xml", "image/png", "text/plain"];

function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value);
}

function renderLikeVsCode(output: nbformat.IOutput, into: HTMLElement): void {
  const box = document.createElement("div");
  box.className = "vscode-output";
  into.appendChild(box);
  const data = (output.data ?? {}) as Record<string, unknown>;
  const mime = VSCODE_ORDER.find((type) => data[type] !== undefined);
  box.dataset.mime = mime ?? "";
  if (mime === "text/html" || mime === "image/svg+xml") {
    const element = document.createElement("div");
    element.innerHTML = text(data[mime]);
    box.appendChild(element);
    for (const old of Array.from(element.getElementsByTagName("script"))) {
      const copy = document.createElement("script");
      copy.text = (old as unknown as HTMLElement).innerText;
      const type = old.getAttribute("type");
      if (type) copy.setAttribute("type", type);
      element.appendChild(copy).remove();
    }
  } else if (mime === "image/png") {
    const img = document.createElement("img");
    img.src = `data:image/png;base64,${text(data[mime])}`;
    box.appendChild(img);
  } else {
    const pre = document.createElement("pre");
    pre.textContent = mime ? text(data[mime]) : "";
    box.appendChild(pre);
  }
}

declare global {
  interface Window {
    kbookHarness: typeof harness;
  }
}

const harness = {
  /** Shows outputs in a JupyterLab output area labelled `label`. */
  jupyterlab(label: string, outputs: nbformat.IOutput[], trusted: boolean): void {
    const model = new OutputAreaModel({ values: outputs, trusted });
    const area = new OutputArea({ model, rendermime });
    Widget.attach(area, section(label, "jupyterlab"));
    models.set(label, model);
  },
  /** A cell re-run: the area's outputs are cleared and the new ones added, as the notebook does. */
  rerun(label: string, outputs: nbformat.IOutput[]): void {
    const model = models.get(label)!;
    model.clear();
    for (const output of outputs) model.add(output);
  },
  /** Shows outputs the way VS Code's built-in renderer does (a trusted workspace). */
  vscode(label: string, outputs: nbformat.IOutput[]): void {
    const into = section(label, "vscode");
    for (const output of outputs) renderLikeVsCode(output, into);
  },
};

window.kbookHarness = harness;

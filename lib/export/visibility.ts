/**
 * How much of a cell the page shows, from the metadata readers use to shape a notebook: Jupyter
 * Book's tags (`remove-cell`, `remove-input`, `remove-output`, `hide-cell`, `hide-input`,
 * `hide-output`; the `_` spellings too) and JupyterLab's collapsed state (`jupyter.source_hidden`,
 * `jupyter.outputs_hidden`, nbformat's `collapsed`). "remove" leaves the part out of the file;
 * "hide" folds it away, one click from view.
 */
import type { Cell } from "./notebook.js";

export type Visibility = "show" | "hide" | "remove";

export interface CellVisibility {
  cell: Visibility;
  input: Visibility;
  output: Visibility;
}

/** How a cell is shown, from its tags and collapse metadata. */
export function cellVisibility(cell: Cell): CellVisibility {
  const tags = new Set((Array.isArray(cell.metadata.tags) ? cell.metadata.tags : []).map((t) => String(t).replace(/_/g, "-")));
  const jupyter = typeof cell.metadata.jupyter === "object" && cell.metadata.jupyter !== null ? cell.metadata.jupyter : {};
  const pick = (part: "cell" | "input" | "output", hiddenByMetadata = false): Visibility =>
    tags.has(`remove-${part}`) ? "remove" : tags.has(`hide-${part}`) || hiddenByMetadata ? "hide" : "show";
  return {
    cell: pick("cell"),
    input: pick("input", jupyter.source_hidden === true),
    output: pick("output", jupyter.outputs_hidden === true || cell.metadata.collapsed === true),
  };
}


/**
 * Charts, tables and MIME bundles shared by kbook's displays (bpftrace results, profiles, VMs).
 */
export { JUPYTER_DISPLAY, VEGALITE_MIME, VEGALITE_SCHEMA, displayable, isDisplayable } from "./mime.js";
export type { Displayable, MimeBundle } from "./mime.js";
export {
  RawHtml,
  TABLE_CSS,
  cellHtml,
  preformatted,
  rawHtml,
  renderHtmlPage,
  renderHtmlTable,
  shareBar,
} from "./html.js";
export type { CellContent, HtmlColumn, HtmlTableOptions } from "./html.js";
export { VegaLiteChart, renderVegaLiteSvg, vegaLiteBundle, vegaLiteChart } from "./vegalite.js";
export type { VegaLiteSpec } from "./vegalite.js";
export { renderPlotSvg } from "./plot.js";
export type { PlotOptions } from "./plot.js";
export { renderSearchableList } from "./searchable.js";
export type { SearchableListOptions } from "./searchable.js";

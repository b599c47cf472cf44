/**
 * A long list with a filter box (the `bpftrace -l | fzf` step, in a notebook). The first items are
 * written as static, escaped markup so the list still reads where scripts do not run (nbconvert,
 * GitHub); a small inline script filters the full list as you type, writing matches with
 * `textContent` so no item is ever parsed as HTML.
 */
import { randomBytes } from "node:crypto";
import { escapeJsonForScript } from "./escape.js";
import { escapeHtml } from "./html.js";

export interface SearchableListOptions {
  title?: string;
  placeholder?: string;
  /** Items shown at once (static and while filtering). Default 200. */
  limit?: number;
}

// Words separated by spaces must all occur (like fzf's default); a term that fails to compile as
// a regular expression is matched as plain text. The list is looked for from the running script
// outwards, not by getElementById: notebook front ends run a copy of the script, in its place
// (JupyterLab) or appended to the output's element (VS Code), and the same output shown twice
// has the same id twice; ids match by suffix because kbook export prefixes them per output.
const FILTER_SCRIPT = `(function(){
var id=ID,root=null,node=document.currentScript||document;
function ours(e){return !e.__kbookList&&(e.id===id||e.id.slice(-id.length-1)==="-"+id);}
for(;node&&!root;node=node.parentNode){if(node.nodeType===1&&node.classList.contains("kbook-searchable")&&ours(node)){root=node;break;}
if(!node.querySelectorAll)continue;var c=node.querySelectorAll(".kbook-searchable");
for(var k=0;k<c.length;k++)if(ours(c[k])){root=c[k];break;}}
if(!root)return;root.__kbookList=true;
var items=JSON.parse(root.querySelector("script[type='application/json']").textContent);
var input=root.querySelector("input"),list=root.querySelector("ol"),count=root.querySelector(".kbook-count");
var limit=LIMIT;
function matcher(term){try{return new RegExp(term,"i");}catch(e){var t=term.toLowerCase();return{test:function(s){return s.toLowerCase().indexOf(t)>=0;}};}}
function update(){
var terms=input.value.trim().split(/\\s+/).filter(Boolean).map(matcher);
var shown=0,matched=0;list.textContent="";
for(var i=0;i<items.length;i++){var s=items[i],ok=true;
for(var j=0;j<terms.length;j++){if(!terms[j].test(s)){ok=false;break;}}
if(!ok)continue;matched++;
if(shown<limit){var li=document.createElement("li");li.textContent=s;list.appendChild(li);shown++;}}
count.textContent=matched+" of "+items.length+(matched>shown?" (first "+shown+" shown)":"");}
input.addEventListener("input",update);update();})();`;

/** Renders a filterable list of strings as one self-contained HTML fragment. */
export function renderSearchableList(items: readonly string[], options: SearchableListOptions = {}): string {
  const limit = Math.max(1, Math.floor(options.limit ?? 200));
  const id = `kbook-list-${randomBytes(6).toString("hex")}`;
  const staticItems = items
    .slice(0, limit)
    .map((item) => `<li>${escapeHtml(item)}</li>`)
    .join("");
  const script = FILTER_SCRIPT.replace("ID", JSON.stringify(id)).replace("LIMIT", String(limit));
  return [
    `<div id="${id}" class="kbook-searchable">`,
    options.title ? `<div><strong>${escapeHtml(options.title)}</strong></div>` : "",
    `<input type="search" placeholder="${escapeHtml(options.placeholder ?? "filter (words or regular expressions)")}" style="width:30em;max-width:100%">`,
    ` <span class="kbook-count">${escapeHtml(`${Math.min(limit, items.length)} of ${items.length} shown`)}</span>`,
    `<ol style="max-height:24em;overflow:auto;font-family:ui-monospace,monospace;font-size:12px">${staticItems}</ol>`,
    `<script type="application/json">${escapeJsonForScript(JSON.stringify(items))}</script>`,
    `<script>${script}</script>`,
    "</div>",
  ].join("");
}

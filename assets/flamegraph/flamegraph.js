/*
 * Interactivity of a kbook flame graph: hover details, click to zoom, reset zoom, regex search
 * with highlighting and the matched share of samples, case toggle, keyboard shortcuts.
 * Everything is scoped to one <svg> (found by its id): several graphs on one page, a notebook
 * or an exported HTML file, do not interfere. Loaded into the SVG as
 * `(function (cfg) {...})(config)`; it needs no network.
 */
(function (cfg) {
  "use strict";
  var doc = document;

  // Find this graph's <svg>, nearest the running script first. The script is inside it (an SVG
  // file, or SVG placed in a page), or beside it (kbook's text/html output), or, where a notebook
  // front end runs an output's scripts by re-creating them, a copy that was put in its place
  // (JupyterLab) or appended to the output's element (VS Code). The same output may be shown
  // twice, so the graph taken is one not set up yet; ids match by suffix because kbook export
  // prefixes them per output.
  function ours(svg) {
    if (svg.__kbookFlameGraph) return false;
    var id = svg.getAttribute("id") || "";
    return id === cfg.id || id.slice(-cfg.id.length - 1) === "-" + cfg.id;
  }
  function findRoot() {
    var script = doc.currentScript;
    if (script && script.closest) {
      var around = script.closest("svg.kbook-flamegraph");
      if (around && !around.__kbookFlameGraph) return around;
    }
    for (var node = script ? script.parentNode : doc; node; node = node.parentNode) {
      if (!node.querySelectorAll) continue;
      var all = node.querySelectorAll("svg.kbook-flamegraph");
      for (var i = 0; i < all.length; i++) if (ours(all[i])) return all[i];
    }
    return null;
  }

  var root = findRoot();
  if (!root) return;
  root.__kbookFlameGraph = true;

  function part(cls) {
    return root.querySelector("." + cls);
  }
  var framesGroup = part("fg-frames");
  var details = part("fg-details");
  var unzoomBtn = part("fg-unzoom");
  var searchBtn = part("fg-search");
  var icBtn = part("fg-ic");
  var matched = part("fg-matched");
  var frames = [];
  var children = framesGroup.children;
  for (var i = 0; i < children.length; i++) {
    var g = children[i];
    var rect = g.querySelector("rect");
    var text = g.querySelector("text");
    var title = g.querySelector("title");
    var info = title ? title.textContent : "";
    var cut = info.lastIndexOf(" (");
    frames.push({
      g: g,
      rect: rect,
      text: text,
      info: info,
      name: (cut >= 0 ? info.slice(0, cut) : info),
      x: parseFloat(rect.getAttribute("x")),
      w: parseFloat(rect.getAttribute("width")),
      y: parseFloat(rect.getAttribute("y")),
      fill: rect.getAttribute("fill")
    });
  }
  var fullWidth = parseFloat(root.getAttribute("width")) - 2 * cfg.xpad;
  var rootWidth = 0;
  for (i = 0; i < frames.length; i++) if (frames[i].w > rootWidth) rootWidth = frames[i].w;
  var fudge = 0.0001;
  var zoomed = null;
  var term = null;
  var ignoreCase = false;

  function setText(node, value) {
    if (node) node.textContent = value;
  }

  function label(f, width) {
    var chars = Math.floor(width / (cfg.fontsize * cfg.fontwidth));
    if (chars < 3) return "";
    var name = f.name.replace(/_\[[kwij]\]$/, "");
    var chs = Array.from ? Array.from(name) : name.split("");
    if (chars >= chs.length) return name;
    return chs.slice(0, chars - 2).join("") + "..";
  }

  function place(f, x, w, cls) {
    f.rect.setAttribute("x", x.toFixed(1));
    f.rect.setAttribute("width", w.toFixed(1));
    if (f.text) {
      f.text.setAttribute("x", (x + 3).toFixed(2));
      f.text.textContent = label(f, w);
    }
    f.g.setAttribute("class", cls);
  }

  function zoom(f) {
    zoomed = f;
    var ratio = fullWidth / f.w;
    for (var i = 0; i < frames.length; i++) {
      var e = frames[i];
      var up = cfg.inverted ? e.y < f.y : e.y > f.y;
      if (up) {
        if (e.x <= f.x + fudge && e.x + e.w + fudge >= f.x + f.w) place(e, cfg.xpad, fullWidth, "fg-parent");
        else e.g.setAttribute("class", "fg-hide");
      } else if (e.x < f.x - fudge || e.x + fudge >= f.x + f.w) {
        e.g.setAttribute("class", "fg-hide");
      } else {
        place(e, cfg.xpad + (e.x - f.x) * ratio, e.w * ratio, "");
      }
    }
    if (unzoomBtn) unzoomBtn.setAttribute("class", "fg-unzoom");
  }

  function unzoom() {
    zoomed = null;
    for (var i = 0; i < frames.length; i++) place(frames[i], frames[i].x, frames[i].w, "");
    if (unzoomBtn) unzoomBtn.setAttribute("class", "fg-unzoom fg-hide");
  }

  function clearSearch() {
    term = null;
    for (var i = 0; i < frames.length; i++) frames[i].rect.setAttribute("fill", frames[i].fill);
    if (searchBtn) {
      searchBtn.setAttribute("class", "fg-search");
      setText(searchBtn, "Search");
    }
    setText(matched, " ");
  }

  // Highlights frames whose name matches; shows the share of all samples under the matches,
  // counting a matched frame inside another matched frame once.
  function search(pattern) {
    var re;
    try {
      re = new RegExp(pattern, ignoreCase ? "i" : "");
    } catch (err) {
      setText(matched, "Invalid regex");
      return;
    }
    clearSearch();
    term = pattern;
    var hits = [];
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      if (f.name !== "" && re.test(f.name)) {
        f.rect.setAttribute("fill", cfg.searchcolor);
        hits.push(f);
      }
    }
    if (searchBtn) {
      searchBtn.setAttribute("class", "fg-search fg-show");
      setText(searchBtn, "Reset Search");
    }
    hits.sort(function (a, b) {
      return a.x - b.x || b.w - a.w;
    });
    var covered = 0;
    var lastEnd = -1;
    for (i = 0; i < hits.length; i++) {
      if (hits[i].x >= lastEnd - fudge) {
        covered += hits[i].w;
        lastEnd = hits[i].x + hits[i].w;
      }
    }
    var pct = rootWidth > 0 ? (100 * covered) / rootWidth : 0;
    setText(matched, "Matched: " + (pct >= 100 ? "100" : pct.toFixed(1)) + "%" + (hits.length ? "" : " (no frame)"));
  }

  function searchPrompt() {
    if (term !== null) {
      clearSearch();
      return;
    }
    var asked = Date.now();
    var answer = null;
    try {
      answer = window.prompt(
        "Search frames (regular expression, e.g. ^ext4_)" + (ignoreCase ? ", ignoring case" : "") +
          "\nCtrl-I toggles case sensitivity.",
        ""
      );
    } catch (e) {
      answer = null;
    }
    if (answer) search(answer);
    // A sandboxed page (VS Code's notebook outputs) ignores prompt(): null at once, no dialog seen.
    else if (answer === null && Date.now() - asked < 30) searchField();
  }

  // Where prompt() is not allowed: a search field above the graph, when the graph is in an HTML page.
  function searchField() {
    var parent = root.parentNode;
    if (!parent || doc.documentElement === root || !doc.createElementNS) return;
    var field = parent.querySelector && parent.querySelector("input.kbook-flamegraph-search");
    if (!field) {
      field = doc.createElementNS("http://www.w3.org/1999/xhtml", "input");
      field.setAttribute("type", "search");
      field.setAttribute("class", "kbook-flamegraph-search");
      field.setAttribute("placeholder", "Search frames (regular expression), Enter to search, Esc to clear");
      field.setAttribute("style", "display:block;width:30em;max-width:100%;margin:2px 0");
      field.addEventListener("keydown", function (e) {
        if (e.key === "Enter") {
          if (field.value) search(field.value);
          else clearSearch();
        } else if (e.key === "Escape") {
          clearSearch();
          field.parentNode.removeChild(field);
        }
        e.stopPropagation();
      });
      parent.insertBefore(field, root);
    }
    field.focus();
  }

  function toggleCase() {
    ignoreCase = !ignoreCase;
    if (icBtn) icBtn.setAttribute("class", ignoreCase ? "fg-ic fg-show" : "fg-ic");
    if (term !== null) search(term);
  }

  function frameOf(node) {
    while (node && node !== root) {
      if (node.parentNode === framesGroup) {
        for (var i = 0; i < frames.length; i++) if (frames[i].g === node) return frames[i];
        return null;
      }
      node = node.parentNode;
    }
    return null;
  }

  // Keyboard shortcuts go to the graph the pointer was last on (or the only one).
  function activate() {
    window.__kbookActiveFlameGraph = root;
  }
  function isActive() {
    if (doc.documentElement === root) return true;
    return window.__kbookActiveFlameGraph === root;
  }

  root.addEventListener("mouseover", function (e) {
    activate();
    var f = frameOf(e.target);
    if (f) setText(details, cfg.nametype + " " + f.info);
  });
  root.addEventListener("mouseout", function (e) {
    var f = frameOf(e.target);
    if (f) setText(details, " ");
  });
  root.addEventListener("click", function (e) {
    activate();
    var f = frameOf(e.target);
    if (f) {
      if (f.name === "" || (zoomed && f === zoomed)) unzoom();
      else zoom(f);
      if (term !== null) search(term);
    } else if (e.target === unzoomBtn) {
      unzoom();
      if (term !== null) search(term);
    } else if (e.target === searchBtn) searchPrompt();
    else if (e.target === icBtn) toggleCase();
  });
  window.addEventListener("keydown", function (e) {
    if (!isActive()) return;
    var key = e.key || "";
    if (key === "F3" || ((e.ctrlKey || e.metaKey) && (key === "f" || key === "F"))) {
      e.preventDefault();
      searchPrompt();
    } else if ((e.ctrlKey || e.metaKey) && (key === "i" || key === "I")) {
      e.preventDefault();
      toggleCase();
    } else if (key === "Escape") {
      unzoom();
      clearSearch();
    }
  });

  // For tests and notebooks: drive the graph from script.
  root.kbookFlameGraph = {
    zoom: function (name) {
      for (var i = 0; i < frames.length; i++) if (frames[i].name === name) return zoom(frames[i]), true;
      return false;
    },
    unzoom: unzoom,
    search: search,
    clearSearch: clearSearch,
    toggleCase: toggleCase
  };
})

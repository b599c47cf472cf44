// The exported page's own script: draws Vega/Vega-Lite charts with the inlined vega-embed and
// marks the current section in the table of contents. Everything works without it (the charts
// then stay the static SVG rendered at export time).
(function () {
  "use strict";

  // Charts must not reach the network: the page is a file meant to be read offline, and the page's
  // Content-Security-Policy would refuse the request anyway. A spec that names a URL fails with
  // this message instead, and its static SVG stays in place.
  function offlineLoader(vega) {
    var loader = vega.loader();
    var refuse = function (uri) {
      return Promise.reject(new Error("kbook export: not loading " + uri + " (the page works offline)"));
    };
    loader.load = refuse;
    loader.sanitize = refuse;
    return loader;
  }

  function drawCharts() {
    var charts = document.querySelectorAll(".kb-vega");
    if (!charts.length || typeof window.vegaEmbed !== "function") return;
    var loader = offlineLoader(window.vega);
    Array.prototype.forEach.call(charts, function (chart) {
      var specElement = chart.parentNode.querySelector(":scope > script.kb-vega-spec");
      var spec;
      try {
        spec = JSON.parse(specElement.textContent);
      } catch (error) {
        console.warn("kbook export: unreadable chart spec", error);
        return;
      }
      var target = document.createElement("div");
      target.className = "kb-vega-live";
      chart.appendChild(target);
      window
        .vegaEmbed(target, spec, {
          mode: chart.getAttribute("data-mode") === "vega" ? "vega" : "vega-lite",
          renderer: "svg",
          loader: loader,
          actions: { export: true, source: false, compiled: false, editor: false },
        })
        .then(function () {
          // Drawn: the static fallback (everything before the live chart) goes.
          while (chart.firstChild && chart.firstChild !== target) chart.removeChild(chart.firstChild);
          chart.classList.add("kb-vega-drawn");
        })
        .catch(function (error) {
          chart.removeChild(target);
          chart.classList.add("kb-vega-failed");
          console.warn("kbook export: the chart could not be drawn; showing its static SVG.", error);
        });
    });
  }

  function followContents() {
    var links = document.querySelectorAll("nav.toc a[href^='#']");
    if (!links.length || typeof IntersectionObserver !== "function") return;
    var byId = {};
    var headings = [];
    Array.prototype.forEach.call(links, function (link) {
      var heading = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (heading) {
        byId[heading.id] = link;
        headings.push(heading);
      }
    });
    var visible = {};
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        visible[entry.target.id] = entry.isIntersecting;
      });
      var current = null;
      for (var i = 0; i < headings.length; i++) {
        if (visible[headings[i].id]) {
          current = headings[i];
          break;
        }
      }
      if (!current) return;
      Array.prototype.forEach.call(links, function (link) {
        link.removeAttribute("aria-current");
      });
      byId[current.id].setAttribute("aria-current", "true");
    });
    headings.forEach(function (heading) {
      observer.observe(heading);
    });
  }

  drawCharts();
  followContents();
})();

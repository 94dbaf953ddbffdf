"use strict";
// The interactive charts. Each <figure data-chart> (templates/includes/chart.html) holds the
// static SVG drawn on the server and the Vega-Lite spec it was drawn from; vega-embed draws the
// spec in its place: tooltips, and a click on a mark whose datum has an "href" opens it (the
// drill-down; the figures table links the same rows for keyboards). The page's Content-Security-
// Policy allows no eval and no style element: Vega's expressions go through its interpreter
// (ast: true), and the tooltip's style is in css/charts.css, not added by vega-tooltip. When
// anything fails, the static SVG stays.
(function () {
  if (window.itsmCharts) {
    return;
  }
  window.itsmCharts = true;

  var OPTIONS = {
    renderer: "svg",
    actions: false,
    ast: true,
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true },
  };

  function sitePath(href) {
    return typeof href === "string" && href.charAt(0) === "/" && href.charAt(1) !== "/" && href.indexOf("\\") < 0;
  }

  function draw(figure) {
    var data = figure.querySelector(':scope > script[type="application/json"]');
    var view = figure.querySelector(":scope > [data-chart-view]");
    if (!data || !view || typeof window.vegaEmbed !== "function") {
      return;
    }
    var spec;
    try {
      spec = JSON.parse(data.textContent);
    } catch (error) {
      return;
    }
    var drawn = view.querySelector("svg");
    var label = drawn ? drawn.getAttribute("aria-label") : "";
    var holder = document.createElement("div");
    holder.hidden = true;
    view.appendChild(holder);
    window
      .vegaEmbed(holder, spec, OPTIONS)
      .then(function (result) {
        var svg = holder.querySelector("svg");
        if (svg) {
          svg.setAttribute("role", "img");
          svg.setAttribute("aria-label", label || "");
        }
        Array.prototype.slice.call(view.children).forEach(function (child) {
          if (child !== holder) {
            view.removeChild(child);
          }
        });
        holder.hidden = false;
        result.view.addEventListener("click", function (event, item) {
          var href = item && item.datum ? item.datum.href : null;
          if (sitePath(href)) {
            window.location.assign(href);
          }
        });
        figure.setAttribute("data-chart-ready", "interactive");
      })
      .catch(function (error) {
        holder.remove();
        figure.setAttribute("data-chart-ready", "static");
        if (window.console) {
          window.console.warn("chart left static:", error);
        }
      });
  }

  function start() {
    document.querySelectorAll("figure[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* Type-ahead pickers (itsm/core/pickers.py): every <select data-picker-url> becomes a Tom Select
 * that asks its JSON endpoint as the user types. The server searches, scopes to the user's
 * role and caps the rows; this script only shows them. Texts come translated from the
 * select's data-picker-* attributes. No build step.
 *
 *   data-picker-url          the endpoint (its fixed parameters included)
 *   data-picker-depends      {"param": "element id"}: sent along with each search (the
 *                            organisation whose contacts are wanted); a change there forgets
 *                            the options loaded so far
 *   data-picker-placeholder, -empty, -error, -remove   texts
 *
 * Set up at once (the script comes last in <body>) and again on content htmx swaps in (htmx:load).
 */
(function () {
  "use strict";

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function dependencies(select) {
    try {
      return JSON.parse(select.dataset.pickerDepends || "{}");
    } catch (error) {
      return {};
    }
  }

  function searchUrl(select, query) {
    var url = new URL(select.dataset.pickerUrl, window.location.href);
    url.searchParams.set("q", query);
    var depends = dependencies(select);
    Object.keys(depends).forEach(function (param) {
      var field = document.getElementById(depends[param]);
      if (field && field.value) {
        url.searchParams.set(param, field.value);
      }
    });
    return url.toString();
  }

  function setUp(select) {
    if (select.tomselect || typeof window.TomSelect === "undefined") {
      return;
    }
    var data = select.dataset;
    var hint = null; // the server's reason for showing nothing ("type at least two characters")
    var latest = 0; // the last search asked: an older answer arriving late is dropped
    var plugins = select.multiple
      ? { remove_button: { title: data.pickerRemove || "" } }
      : select.required ? {} : { clear_button: { title: data.pickerRemove || "" } };
    var picker = new window.TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: [],
      // The endpoint has filtered and ordered the rows: show them as they came.
      score: function () {
        return function () { return 1; };
      },
      sortField: "$order",
      maxOptions: null,
      loadThrottle: 300,
      preload: "focus", // an empty query lists the first rows (an organisation's contacts)
      shouldLoad: function () { return true; },
      placeholder: data.pickerPlaceholder || null,
      hidePlaceholder: false,
      plugins: plugins,
      load: function (query, callback) {
        var self = this;
        var ticket = ++latest;
        self.clearOptions(); // the last search's rows go at once (the chosen ones stay)
        fetch(searchUrl(select, query), {
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
        })
          .then(function (response) {
            if (!response.ok) {
              throw new Error("HTTP " + response.status);
            }
            return response.json();
          })
          .then(function (json) {
            if (ticket !== latest) {
              callback();
              return;
            }
            hint = json.hint || null;
            callback(json.results || []);
          })
          .catch(function () {
            if (ticket === latest) {
              hint = data.pickerError || null;
            }
            callback();
          });
      },
      render: {
        no_results: function () {
          return '<div class="no-results">' + escapeHtml(hint || data.pickerEmpty || "") + "</div>";
        },
      },
    });
    var depends = dependencies(select);
    Object.keys(depends).forEach(function (param) {
      var field = document.getElementById(depends[param]);
      if (field) {
        field.addEventListener("change", function () {
          picker.clearOptions();
          picker.wrapper.classList.remove("preloaded");
        });
      }
    });
  }

  function setUpAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("select[data-picker-url]")) {
      setUp(scope);
    }
    scope.querySelectorAll("select[data-picker-url]").forEach(setUp);
  }

  window.itsmPickers = { setUp: setUp, setUpAll: setUpAll };
  // Loaded at the end of <body>: the page is there, so the pickers are ready before the
  // page's own DOMContentLoaded handlers run (they may use select.tomselect).
  setUpAll(document);
  document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  document.addEventListener("htmx:load", function (event) { setUpAll(event.detail && event.detail.elt); });
})();

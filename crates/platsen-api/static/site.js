// Platsen: typeahead for the job search box. The pages work without this
// file; it only fills the search box's <datalist> with suggestions from
// /api/v1/jobs/suggest, and a picked role, employer, county or municipality
// becomes that filter instead of free text.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("q-suggest");
  if (!input || !list || !window.fetch) return;

  var KINDS = {
    role: ["role", "Roll"],
    employer: ["employer", "Arbetsgivare"],
    county: ["county", "Län"],
    municipality: ["municipality", "Kommun"],
    title: [null, "Annons"]
  };
  var current = [];
  var timer = null;
  var controller = null;

  function fill(suggestions) {
    current = suggestions;
    while (list.firstChild) list.removeChild(list.firstChild);
    suggestions.forEach(function (s) {
      var option = document.createElement("option");
      option.value = s.text;
      option.label = (KINDS[s.kind] || [null, ""])[1];
      list.appendChild(option);
    });
  }

  function fetchSuggestions() {
    var q = input.value.trim();
    if (q.length < 2) return fill([]);
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    fetch("/api/v1/jobs/suggest?q=" + encodeURIComponent(q.slice(0, 100)), {
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (s) { if (Array.isArray(s)) fill(s); })
      .catch(function () { /* typing on; the form still works */ });
  }

  // A picked suggestion that names a filter searches by that filter.
  function picked() {
    var match = current.filter(function (s) { return s.text === input.value; })[0];
    var kind = match && KINDS[match.kind];
    if (!kind || !kind[0]) return false;
    var form = input.form;
    var params = new URLSearchParams();
    new FormData(form).forEach(function (v, k) {
      if (v !== "" && k !== "q" && k !== "page") params.set(k, v);
    });
    params.set(kind[0], match.value);
    window.location.assign(form.getAttribute("action") + "?" + params.toString());
    return true;
  }

  input.addEventListener("input", function (e) {
    // Choosing from the list fires an input event without a key press.
    if (!(e instanceof InputEvent) || e.inputType === "insertReplacementText") {
      if (picked()) return;
    }
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, 120);
  });
  input.form && input.form.addEventListener("submit", function (e) {
    if (picked()) e.preventDefault();
  });
})();

// Copy buttons (the embed snippet on the dashboard): the code stays
// selectable without this.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = "Kopierat";
      });
    });
  });
})();

// The share controls on an ad's page: "Kopiera länk" copies the ad's
// address, "Skriv ut" opens the print dialog. Both buttons stay hidden
// without this file; the e-mail and LinkedIn links work without it.
(function () {
  "use strict";
  var copy = document.querySelector("button.copy-link");
  var status = document.querySelector(".copy-status");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(copy.getAttribute("data-url")).then(
        function () { if (status) status.textContent = "Länken är kopierad."; },
        function () { if (status) status.textContent = "Länken kunde inte kopieras."; }
      );
    });
  }
  var print = document.querySelector("button.print");
  if (print && window.print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();

// Saved ads ("Sparade"): with this script the list is kept in the
// browser's storage, and every "Spara" toggles its ad in place. The page
// /sparade shows the list in its address (so it can be bookmarked or
// mailed): arriving there, the stored list and the address's are joined.
// Without storage (or without this file) the links lead to /sparade with
// the list in the address, which works on its own.
(function () {
  "use strict";
  var KEY = "platsen.sparade";
  var MAX = 50;
  var SLUG = /^[a-z0-9-]{3,100}$/;

  function load() {
    try {
      var v = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(v) ? v.filter(function (s) { return typeof s === "string" && SLUG.test(s); }).slice(0, MAX) : [];
    } catch (e) {
      return null;
    }
  }
  function keep(list) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(list));
      return true;
    } catch (e) {
      return false;
    }
  }
  function address(list) {
    return list.length ? "/sparade?" + list.map(function (s) { return "annons=" + encodeURIComponent(s); }).join("&") : "/sparade";
  }
  function showCount(list) {
    var link = document.querySelector("a.saved-link");
    if (link) link.textContent = list.length ? "Sparade (" + list.length + ")" : "Sparade";
  }
  function mark(a, on) {
    var label = a.querySelector(".save-label");
    var long = label && label.textContent.indexOf("annonsen") >= 0;
    if (label) label.textContent = on ? (long ? "Sparad – ta bort" : "Sparad") : (long ? "Spara annonsen" : "Spara");
    a.setAttribute("aria-pressed", on ? "true" : "false");
    a.classList.toggle("is-saved", on);
  }

  var saved = load();
  if (saved === null || !keep(saved)) return;
  showCount(saved);

  if (location.pathname === "/sparade") {
    var params = new URLSearchParams(location.search);
    var shown = [];
    params.getAll("annons").join(",").split(",").forEach(function (s) {
      s = s.trim();
      if (SLUG.test(s) && shown.indexOf(s) < 0) shown.push(s);
    });
    var all = shown.slice();
    saved.forEach(function (s) { if (all.indexOf(s) < 0 && all.length < MAX) all.push(s); });
    keep(all);
    showCount(all);
    if (all.length !== shown.length) {
      location.replace(address(all));
      return;
    }
    document.querySelectorAll("a.unsave").forEach(function (a) {
      a.addEventListener("click", function () {
        var slug = a.getAttribute("data-slug");
        keep((load() || []).filter(function (s) { return s !== slug; }));
      });
    });
  }

  document.querySelectorAll("a.save").forEach(function (a) {
    var slug = a.getAttribute("data-slug");
    a.setAttribute("role", "button");
    mark(a, saved.indexOf(slug) >= 0);
    a.addEventListener("click", function (event) {
      event.preventDefault();
      var list = load() || [];
      var at = list.indexOf(slug);
      if (at >= 0) list.splice(at, 1);
      else if (list.length < MAX) list.push(slug);
      keep(list);
      mark(a, list.indexOf(slug) >= 0);
      showCount(list);
    });
  });
})();

// A file too large for the form says so before it is sent (the server says
// the same after, without the script).
(function () {
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var error = document.getElementById(input.id + "-error");
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var tooLarge = !!file && file.size > max;
      var text = tooLarge ? "Filen får vara högst " + Math.floor(max / 1048576) + " MB." : "";
      input.setCustomValidity(text);
      if (tooLarge) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (error) {
        error.textContent = text;
        error.hidden = !tooLarge;
      }
    });
  });
})();

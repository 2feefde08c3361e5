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

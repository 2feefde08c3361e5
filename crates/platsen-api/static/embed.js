/*! Platsen career-page widget: an employer's open ads on its own site.
 * <script src="https://<host>/embed/v1/platsen.js" data-employer="nacka-kommun" async></script>
 * Optional: data-limit, data-role, data-county, data-municipality, data-q,
 * data-lang (sv|en), data-jsonld="true", data-target="#css-selector".
 * Theme with CSS custom properties on the page: --platsen-font,
 * --platsen-font-size, --platsen-text, --platsen-muted, --platsen-accent,
 * --platsen-border, --platsen-bg, --platsen-warn. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var base = new URL(script.src, location.href).origin;
  var d = script.dataset;

  // The iframe variant: a page of ours tells its parent its height; every
  // copy of this script on the parent page may set it, idempotently.
  var key = "__platsenResize:" + base;
  if (!window[key]) {
    window[key] = true;
    window.addEventListener("message", function (e) {
      if (e.origin !== base || !e.data || e.data.type !== "platsen:height") return;
      var frames = document.getElementsByTagName("iframe");
      for (var i = 0; i < frames.length; i++) {
        if (frames[i].contentWindow === e.source) {
          frames[i].style.height = Math.max(0, Math.ceil(+e.data.height || 0)) + "px";
        }
      }
    });
  }
  if (!d.employer) return;

  var T = {
    sv: {
      heading: "Lediga jobb",
      loading: "Hämtar lediga jobb …",
      none: "Inga lediga jobb just nu.",
      error: "Det gick inte att hämta lediga jobb.",
      deadline: "Sista ansökningsdag",
      soon: "Stänger snart",
      featured: "Utvald",
      all: "Alla lediga jobb hos ",
    },
    en: {
      heading: "Open positions",
      loading: "Loading open positions …",
      none: "No open positions right now.",
      error: "Could not load open positions.",
      deadline: "Apply by",
      soon: "Closing soon",
      featured: "Featured",
      all: "All open positions at ",
    },
  };
  var lang = d.lang === "en" ? "en" : "sv";
  var t = T[lang];
  var inFrame = d.frame === "true" && window.parent !== window;

  var CSS =
    ":host{all:initial;display:block;font-family:var(--platsen-font,system-ui,-apple-system,'Segoe UI',sans-serif);" +
    "font-size:var(--platsen-font-size,1rem);line-height:1.45;color:var(--platsen-text,#1b1b1b);" +
    "background:var(--platsen-bg,transparent)}" +
    "*{box-sizing:border-box}" +
    "h2{font-size:1.25em;line-height:1.2;margin:0 0 .5em;font-weight:700}" +
    "ul{list-style:none;margin:0;padding:0}" +
    "li{margin:0;padding:.75em 0;border-top:1px solid var(--platsen-border,#d4d4d4)}" +
    "li:last-child{border-bottom:1px solid var(--platsen-border,#d4d4d4)}" +
    "a{color:var(--platsen-accent,#0b5cad)}" +
    "a:focus-visible{outline:2px solid var(--platsen-accent,#0b5cad);outline-offset:2px}" +
    ".title{font-weight:600;font-size:1.05em;text-decoration:none}" +
    ".title:hover{text-decoration:underline}" +
    ".meta{margin:.2em 0 0;color:var(--platsen-muted,#555);font-size:.9em}" +
    ".soon{color:var(--platsen-warn,#a4330d);font-weight:600}" +
    ".featured{display:inline-block;margin-left:.5em;padding:0 .5em;border:1px solid currentColor;border-radius:1em;font-size:.8em;font-weight:600}" +
    ".more{display:inline-block;margin-top:.75em}" +
    ".logo{display:block;max-height:2.5em;max-width:10em;width:auto;margin:0 0 .5em}" +
    ".status{margin:0;color:var(--platsen-muted,#555)}";

  var host = document.createElement("div");
  host.className = "platsen-jobs";
  var target = d.target ? document.querySelector(d.target) : null;
  if (target) target.appendChild(host);
  else script.parentNode.insertBefore(host, script);
  var root = host.attachShadow({ mode: "open" });
  // A constructed style sheet needs no 'unsafe-inline' in the page's CSP.
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (_) {
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  var section = el("section");
  section.setAttribute("aria-labelledby", "platsen-heading");
  var heading = el("h2", null, t.heading);
  heading.id = "platsen-heading";
  var status = el("p", "status", t.loading);
  status.setAttribute("role", "status");
  section.appendChild(heading);
  section.appendChild(status);
  root.appendChild(section);

  function tellHeight() {
    if (inFrame) {
      var h = Math.ceil(document.body.getBoundingClientRect().height) + 16;
      window.parent.postMessage({ type: "platsen:height", height: h }, "*");
    }
  }
  if (inFrame && window.ResizeObserver) new ResizeObserver(tellHeight).observe(document.body);

  function link(href, cls, text) {
    var a = el("a", cls, text);
    a.href = href;
    if (inFrame) a.target = "_top";
    return a;
  }

  function render(data) {
    status.textContent = "";
    if (data.employer && data.employer.logo) {
      var logo = el("img", "logo");
      logo.src = data.employer.logo;
      logo.alt = "";
      section.insertBefore(logo, heading);
    }
    var jobs = data.jobs || [];
    if (!jobs.length) {
      status.textContent = t.none;
    } else {
      status.remove();
      var ul = el("ul");
      jobs.forEach(function (job) {
        var li = el("li");
        li.appendChild(link(job.url, "title", job.title));
        if (job.featured) li.appendChild(el("span", "featured", t.featured));
        var meta = el("p", "meta", job.place + " · " + job.employment_type + " · " + t.deadline + " ");
        var date = el("time", job.closing_soon ? "soon" : null, job.deadline_text);
        date.dateTime = job.deadline;
        meta.appendChild(date);
        // Said in words, not by colour alone.
        if (job.closing_soon) {
          meta.appendChild(document.createTextNode(" "));
          meta.appendChild(el("strong", "soon", t.soon));
        }
        if (job.salary) {
          meta.appendChild(document.createTextNode(" · "));
          meta.appendChild(el("span", "salary", job.salary));
        }
        li.appendChild(meta);
        if (job.published_text) {
          var published = el("time", "published", job.published_text);
          published.dateTime = job.published;
          var p = el("p", "meta");
          p.appendChild(published);
          li.appendChild(p);
        }
        ul.appendChild(li);
      });
      section.appendChild(ul);
    }
    if (data.employer) section.appendChild(link(data.more_url, "more", t.all + data.employer.name));
    (data.json_ld || []).forEach(function (obj) {
      var s = document.createElement("script");
      s.type = "application/ld+json";
      s.textContent = JSON.stringify(obj);
      document.head.appendChild(s);
    });
    tellHeight();
  }

  var params = new URLSearchParams();
  ["employer", "limit", "role", "county", "municipality", "q"].forEach(function (k) {
    if (d[k]) params.set(k, d[k]);
  });
  params.set("lang", lang);
  if (d.jsonld === "true") params.set("jsonld", "1");
  fetch(base + "/embed/v1/jobs.json?" + params.toString(), { credentials: "omit" })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then(render)
    .catch(function () {
      status.textContent = t.error;
      tellHeight();
    });
})();

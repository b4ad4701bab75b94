/* locator — the territories' commune search as an ARIA 1.2 combobox (list autocomplete): the
   communes come from /api/v1/communes; choosing one sends the form with its INSEE code, and the
   page answers with its territory. Without this file the form is a plain GET form and works the
   same. Names are put in with textContent, never as HTML. */
(function () {
  "use strict";

  var MIN_CHARS = 2;
  var DELAY_MS = 150;
  var SHOWN = 6;

  function combobox(form) {
    var input = form.querySelector('input[name="commune"]');
    var list = form.querySelector('[role="listbox"]');
    var announce = form.querySelector("#commune-annonce");
    if (!input || !list) { return; }
    var items = [], active = -1, timer = null, asked = "";
    var code = document.createElement("input");
    code.type = "hidden";
    code.name = "code";
    code.disabled = true;  // sent only once a commune is chosen from the list

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    form.appendChild(code);

    function say(text) { if (announce) { announce.textContent = text; } }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) { input.setAttribute("aria-activedescendant", list.children[index].id); }
    }

    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      input.value = item.nom;
      code.value = item.code;
      code.disabled = false;
      close();
      form.submit();
    }

    function render(results, typed) {
      items = results.slice(0, SHOWN);
      list.textContent = "";
      list.setAttribute("data-requete", typed);
      items.forEach(function (c, i) {
        var li = document.createElement("li");
        li.id = "commune-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var where = [c.departement_nom || c.departement, (c.codes_postaux || [])[0]].filter(Boolean);
        li.textContent = c.nom + (where.length ? " (" + where.join(", ") + ")" : "");
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { choose(i); });
        list.appendChild(li);
      });
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        say(items.length + (items.length > 1 ? " communes proposées" : " commune proposée") +
            "\u202f: flèches haut et bas pour choisir, Entrée pour valider.");
      } else {
        close();
        say("Aucune commune ne correspond.");
      }
    }

    function ask() {
      var q = input.value.trim();
      if (q.length < MIN_CHARS) { items = []; list.textContent = ""; close(); return; }
      if (q === asked) { return; }
      asked = q;
      fetch("/api/v1/communes?limit=" + SHOWN + "&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (body) { if (input.value.trim() === q) { render(body.results || [], q); } })
        .catch(function () { render([], q); });
    }

    input.addEventListener("input", function () {
      code.disabled = true;  // the text changed: the page resolves it again
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      var open = input.getAttribute("aria-expanded") === "true";
      if (event.key === "ArrowDown" && items.length) {
        event.preventDefault();
        if (!open) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && items.length) {
        event.preventDefault();
        if (!open) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-territoire-recherche]"), combobox);
  // After a search, the answer is where reading goes on (a screen reader starts there too).
  var answer = document.getElementById("territoire-trouve");
  if (answer) { answer.focus({ preventScroll: true }); }
})();

/* locator — the search box as an ARIA 1.2 combobox (list autocomplete), "Me localiser", printing.
   Without this file the search is a plain form and still works. Text from the server is always put
   in with textContent, never as HTML. */
(function () {
  "use strict";

  var MIN_CHARS = 2;
  var DELAY_MS = 120;
  var IMPRECISE_METRES = 2000;

  function $(selector, root) { return (root || document).querySelector(selector); }

  function showJsOnly() {
    Array.prototype.forEach.call(document.querySelectorAll(".js-seulement"), function (el) {
      el.hidden = false;
    });
  }

  function typesQuery(form) {
    var out = "";
    Array.prototype.forEach.call(form.querySelectorAll('input[type="hidden"][name="types"]'), function (el) {
      out += "&types=" + encodeURIComponent(el.value);
    });
    return out;
  }

  function describe(item) {
    if (item.kind === "structure") {
      return { nom: item.nom, detail: [item.type_libelle, item.commune].filter(Boolean).join(" · "), note: "" };
    }
    if (item.type === "departement") {
      return { nom: item.nom + " (" + item.code + ")", detail: "Département", note: "" };
    }
    if (item.type === "point") {
      return { nom: "Position " + item.latitude + ", " + item.longitude, detail: "", note: "" };
    }
    var postcodes = (item.codes_postaux || []).slice(0, 3).join(", ");
    var detail = [postcodes, item.departement_nom ? item.departement_nom + " (" + item.departement + ")" : ""]
      .filter(Boolean).join(" · ");
    return { nom: item.nom, detail: detail, note: item.note || "" };
  }

  function targetUrl(form, item, typed) {
    var types = typesQuery(form);
    if (item.kind === "structure") { return item.url; }
    if (item.type === "departement") {
      return "/departements/" + encodeURIComponent(item.code) + (types ? "?" + types.slice(1) : "");
    }
    if (item.type === "point") {
      return "/recherche?q=" + encodeURIComponent(item.latitude + "," + item.longitude) + types;
    }
    return "/recherche?q=" + encodeURIComponent(typed) + "&commune=" + encodeURIComponent(item.code) + types;
  }

  function combobox(form) {
    var input = $('input[name="q"]', form);
    var list = $('[role="listbox"]', form);
    var announce = $("#q-annonce", form);
    if (!input || !list) { return; }
    var items = [];
    var active = -1;
    var timer = null;
    var controller = null;
    var lastAsked = "";

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    function say(text) {
      // Re-setting the same text would not be announced again: clear first.
      announce.textContent = "";
      window.setTimeout(function () { announce.textContent = text; }, 50);
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (!items.length) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function highlight(index) {
      var options = list.querySelectorAll('[role="option"]');
      Array.prototype.forEach.call(options, function (el, i) {
        el.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      var typed = input.value.trim();
      var text = describe(item);
      if (!item.note && item.type === "commune" && item.kind !== "structure") { input.value = item.nom; typed = item.nom; }
      close();
      say("Recherche\u202f: " + text.nom);
      window.location.assign(targetUrl(form, item, typed));
    }

    // Places, then structures whose name matches, each group under its own heading.
    function group(label, id) {
      var li = document.createElement("li");
      li.setAttribute("role", "group");
      li.setAttribute("aria-labelledby", id);
      var title = document.createElement("span");
      title.id = id;
      title.className = "option-groupe";
      title.setAttribute("role", "presentation");
      title.textContent = label;
      li.appendChild(title);
      var ul = document.createElement("ul");
      ul.setAttribute("role", "none");
      li.appendChild(ul);
      list.appendChild(li);
      return ul;
    }

    // `asked`: the text these suggestions answer, kept on the list (data-requete): an earlier, slower
    // answer never replaces a later one, so once it matches the box the list is final.
    function render(places, structures, asked) {
      list.setAttribute("data-requete", asked);
      structures = (structures || []).map(function (s) {
        var copy = {}; Object.keys(s).forEach(function (k) { copy[k] = s[k]; });
        copy.kind = "structure";
        return copy;
      });
      var results = places.concat(structures);
      items = results;
      list.textContent = "";
      var placesList = places.length ? (structures.length ? group("Lieux", list.id + "-lieux") : list) : null;
      var structuresList = structures.length ? group("Structures", list.id + "-structures") : null;
      results.forEach(function (item, i) {
        var text = describe(item);
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var nom = document.createElement("span");
        nom.className = "option-nom";
        nom.textContent = text.nom;
        li.appendChild(nom);
        if (text.detail) {
          var detail = document.createElement("span");
          detail.className = "option-detail";
          detail.textContent = text.detail;
          li.appendChild(detail);
        }
        if (text.note) {
          var note = document.createElement("span");
          note.className = "option-note";
          note.textContent = text.note;
          li.appendChild(note);
        }
        // mousedown would blur the input first and close the list: keep the focus where it is.
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(i); });
        (item.kind === "structure" ? structuresList : placesList).appendChild(li);
      });
      active = -1;
      if (results.length) {
        open();
        var said = [];
        if (places.length) { said.push(places.length + (places.length > 1 ? " lieux" : " lieu")); }
        if (structures.length) {
          said.push(structures.length + (structures.length > 1 ? " structures" : " structure"));
        }
        say(said.join(" et ") + (results.length > 1 ? " proposés" : " proposé") + " : flèches haut et bas pour choisir, Entrée pour valider.");
      } else {
        close();
        say("Aucun lieu ne correspond.");
      }
    }

    function ask() {
      var q = input.value.trim();
      if (q.length < MIN_CHARS) { items = []; list.textContent = ""; close(); return; }
      if (q === lastAsked) { open(); return; }
      lastAsked = q;
      if (controller) { controller.abort(); }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      fetch("/api/v1/lieux?limit=8&q=" + encodeURIComponent(q), {
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) {
          if (input.value.trim() === q) { render(body.results || [], body.structures || [], q); }
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") { return; }
          render([], [], q);
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = input.getAttribute("aria-expanded") === "true";
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!expanded) { open(); }
          if (items.length) { highlight(active + 1 >= items.length ? 0 : active + 1); }
          break;
        case "ArrowUp":
          event.preventDefault();
          if (!expanded) { open(); }
          if (items.length) { highlight(active <= 0 ? items.length - 1 : active - 1); }
          break;
        case "Enter":
          if (expanded && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          break;
        case "Escape":
          if (expanded) {
            event.preventDefault();
            close();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            items = [];
            lastAsked = "";
            list.textContent = "";
          }
          break;
        case "Tab":
          close();
          break;
        default:
          break;
      }
    });

    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  function geolocation(form) {
    var wrapper = $("[data-geoloc]", form);
    var button = $("[data-localiser]", form);
    var message = $("[data-message]", form);
    var input = $('input[name="q"]', form);
    if (!wrapper || !button || !("geolocation" in navigator)) { return; }
    wrapper.hidden = false;

    function tell(text, link) {
      message.textContent = text;
      if (link) {
        message.appendChild(document.createTextNode(" "));
        var a = document.createElement("a");
        a.href = link.href;
        a.textContent = link.text;
        message.appendChild(a);
      }
    }

    button.addEventListener("click", function () {
      button.setAttribute("aria-busy", "true");
      tell("Recherche de votre position…");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          button.removeAttribute("aria-busy");
          var lat = position.coords.latitude.toFixed(5);
          var lon = position.coords.longitude.toFixed(5);
          var accuracy = Math.round(position.coords.accuracy || 0);
          var url = "/recherche?q=" + encodeURIComponent(lat + "," + lon) + "&precision=" + accuracy +
            typesQuery(form);
          if (accuracy > IMPRECISE_METRES) {
            var km = Math.round(accuracy / 100) / 10;
            tell("Votre position est imprécise (à environ " + String(km).replace(".", ",") +
                 " km près) : tapez plutôt le nom de votre commune, ou", {
              href: url, text: "voir quand même les structures autour de cette position"
            });
            return;
          }
          tell("Position trouvée : affichage des structures proches…");
          window.location.assign(url);
        },
        function (error) {
          button.removeAttribute("aria-busy");
          if (error.code === 1) {
            tell("Vous n’avez pas autorisé la localisation. Ce n’est pas grave : tapez le nom de " +
                 "votre commune ou son code postal.");
          } else if (error.code === 3) {
            tell("La localisation a pris trop de temps. Réessayez, ou tapez le nom de votre commune.");
          } else {
            tell("Votre position n’a pas pu être trouvée. Tapez le nom de votre commune ou son code postal.");
          }
          input.focus();
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
      );
    });
  }

  function printing() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-imprimer]"), function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  showJsOnly();
  Array.prototype.forEach.call(document.querySelectorAll("form[data-recherche]"), function (form) {
    combobox(form);
    geolocation(form);
  });
  printing();
})();

/* locator — what every map's folium skeleton calls first: the page's data (its JSON block, read as
   JSON, never as HTML), DOM nodes whose words are text, and French words for the controls. */
(function () {
  "use strict";

  var read = {};

  // The map's data: the <script type="application/json" data-carte-donnees="NAME"> block of the page.
  function donnees(name) {
    if (!read[name]) {
      var block = document.querySelector('script[data-carte-donnees="' + name + '"]');
      read[name] = block ? JSON.parse(block.textContent) : {};
    }
    return read[name];
  }

  // The tile layer the deployment chose (TILES / TILE_URL settings), given by the page.
  function tuiles(name) {
    var t = donnees(name).tiles || {};
    return { url: t.url || "", attribution: t.attribution || "", max_zoom: t.max_zoom || 18 };
  }

  // The element that says the map is ready (data-pret): the page's box around it, or the map itself.
  function boite(name) {
    return document.querySelector('[data-carte="' + name + '"]') || document.getElementById(name);
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  // A divIcon whose spans get their words as DOM text: Leaflet would parse an `html` string.
  var TextIcon = L.DivIcon.extend({
    createIcon: function (oldIcon) {
      var div = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      (this.options.texts || []).forEach(function (part) {
        var span = document.createElement("span");
        if (part.hidden) { span.className = "visually-hidden"; } else { span.setAttribute("aria-hidden", "true"); }
        span.textContent = part.text;
        div.appendChild(span);
      });
      return div;
    }
  });

  function icone(options) {
    return new TextIcon(L.extend({ html: "" }, options));
  }

  // A line of text in the map's corner (a position that could not be found, data that failed to load).
  var Message = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: function () {
      this._p = el("p", "", { role: "status", "class": "carte-message" });
      this._p.hidden = true;
      return this._p;
    },
    dire: function (text) {
      this._p.textContent = text;
      this._p.hidden = !text;
    }
  });

  // French labels for Leaflet's own controls, and a message instead of the locate plugin's alert().
  function francais(map, localiser) {
    L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
    var message = new Message().addTo(map);
    map.on("popupopen", function (event) {
      var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) {
        close.setAttribute("aria-label", "Fermer");
        close.setAttribute("title", "Fermer");
      }
    });
    if (localiser) {
      localiser.options.onLocationError = function () {
        message.dire("Votre position n’a pas pu être trouvée (localisation refusée ou indisponible).");
      };
      localiser.options.onLocationOutsideMapBounds = function (control) {
        control.stop();
        message.dire("Votre position semble hors de la carte.");
      };
    }
    return message;
  }

  window.locatorCartes = { donnees: donnees, tuiles: tuiles, boite: boite, el: el, icone: icone, francais: francais };
})();

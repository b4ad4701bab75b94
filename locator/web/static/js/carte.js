/* locator — what the pins' map (its folium skeleton: structures.*.js) calls: pins and popups built
   with DOM text from the page's JSON data or the API's GeoJSON (never from HTML or template strings),
   list ↔ map sync, the list/map switch on phones. */
(function () {
  "use strict";

  var C = window.locatorCartes;
  var TYPE_NAMES = {
    mission_locale: "Mission locale",
    antenne_mission_locale: "Antenne de Mission locale",
    cio: "CIO",
    psad: "PSAD",
    mlds: "MLDS",
    e2c: "École de la 2e chance",
    epide: "EPIDE",
    dispositif: "Dispositif local",
    partenaire: "Partenaire"
  };

  // The page's map, filled by demarrer(): its layers, and the pins by structure id.
  var map = null, cluster = null, box = null, data = {}, results = null, place = null;
  var markers = {}, answerIds = [], fetched = {};

  function safeType(type) {
    return /^[a-z_]+$/.test(type || "") ? type : "partenaire";
  }

  // `shift`: how many answer pins already stand on this exact spot (one address, two structures):
  // each one more is drawn a pin's width to the right, so none hides another.
  function pinIcon(type, title, number, shift) {
    var texts = [{ text: title, hidden: true }];
    if (number !== null && number !== undefined) { texts.push({ text: String(number) }); }
    var dx = 30 * (shift || 0);
    return C.icone({
      texts: texts, className: "epingle epingle-" + safeType(type),
      iconSize: [32, 40], iconAnchor: [16 - dx, 40], popupAnchor: [dx, -36]
    });
  }

  // Cluster icons carry their count as text a screen reader can say (Leaflet makes them buttons).
  function grappe(group) {
    var n = group.getChildCount();
    var size = n < 10 ? "small" : (n < 50 ? "medium" : "large");
    var outer = document.createElement("div");
    var count = C.el("span", String(n));
    count.appendChild(C.el("span", " structures ici\u202f: agrandir la carte", { "class": "visually-hidden" }));
    outer.appendChild(count);
    return L.divIcon({ html: outer, className: "marker-cluster marker-cluster-" + size, iconSize: L.point(44, 44) });
  }

  // The page's pins (and the searched place) as GeoJSON features for the skeleton's data layers.
  function features(d) {
    var out = (d.pins || []).map(function (pin) {
      return {
        type: "Feature", geometry: { type: "Point", coordinates: [pin.longitude, pin.latitude] },
        properties: { id: pin.id, type: pin.type, title: pin.title, number: pin.number, answer: !!pin.answer }
      };
    });
    if (d.place) {
      var title = d.place.name === "votre position" ? "Votre position" : "Lieu recherché\u202f: " + d.place.name;
      out.push({
        type: "Feature", geometry: { type: "Point", coordinates: [d.place.longitude, d.place.latitude] },
        properties: { id: "lieu-recherche", lieu: true, title: title }
      });
    }
    return { type: "FeatureCollection", features: out };
  }

  // The région's structures come from the API as GeoJSON (asked once for both layers).
  function fromApi(url) {
    if (!fetched[url]) {
      fetched[url] = fetch(url, { headers: { Accept: "application/geo+json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
        .then(function (collection) {
          return {
            type: "FeatureCollection",
            features: (collection.features || []).filter(function (f) { return f.geometry; }).map(function (f) {
              var p = f.properties || {};
              return {
                type: "Feature", geometry: f.geometry,
                properties: { id: p.id, type: safeType(p.type), title: p.nom || "", number: null, answer: false,
                              nom: p.nom || "", code_postal: p.code_postal, commune: p.commune }
              };
            })
          };
        });
    }
    return fetched[url];
  }

  // The skeleton's data source: the page's JSON block, or the API it names.
  function source(name) {
    return function (success, error) {
      var d = C.donnees(name);
      if (d.geojson) {
        fromApi(d.geojson).then(success, function (e) { error(e, "GeoJSON"); });
      } else {
        success(rank(features(d)));
      }
    };
  }

  // The standalone map's background: the outlines of the département's Missions locales' territories.
  function contours(name) {
    return function (success) {
      success(C.donnees(name).contours || { type: "FeatureCollection", features: [] });
    };
  }

  function nommer(feature, layer) {
    layer.bindTooltip(C.el("span", (feature.properties || {}).nom || ""), { sticky: true });
  }

  // The answer's pins (its Mission locale, reception point, nearest others) and the searched place sit
  // on the map itself: a cluster must never swallow them at the first view. The rest are clustered.
  function auPremierPlan(feature) {
    var p = feature.properties || {};
    return !!(p.answer || p.lieu);
  }

  function icone(p) {
    if (p.lieu) {
      return C.icone({ texts: [{ text: p.title, hidden: true }], className: "epingle-lieu",
                       iconSize: [28, 28], iconAnchor: [14, 14] });
    }
    return pinIcon(p.type, p.title, p.number, p.answer ? p._spot || 0 : 0);
  }

  function cardOf(id) {
    return document.querySelector('[data-fiche="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]');
  }

  function listVisible() {
    return !results || !results.classList.contains("vue-carte") || window.matchMedia("(min-width: 900px)").matches;
  }

  function mapVisible() {
    return map.getContainer().offsetParent !== null;
  }

  function setView(view) {
    if (!results) { return; }
    results.classList.toggle("vue-carte", view === "carte");
    results.classList.toggle("vue-liste", view === "liste");
    Array.prototype.forEach.call(document.querySelectorAll("[data-vue]"), function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-vue") === view ? "true" : "false");
    });
    if (view === "carte") {
      // On a phone the map starts below the title: bring the switch to the top of the screen so the
      // whole map, and the answer's pins it fits, are on the screen at once.
      var bascule = document.querySelector(".bascule");
      if (bascule && !window.matchMedia("(min-width: 900px)").matches) {
        bascule.scrollIntoView({ block: "start" });
      }
      map.invalidateSize();
      fit(false);
    }
  }

  // The first view fits the answer when there is one (never a far outlier), else every pin.
  function boundsOfAll() {
    var bounds = L.latLngBounds([]);
    (answerIds.length ? answerIds : Object.keys(markers)).forEach(function (id) {
      bounds.extend(markers[id].getLatLng());
    });
    if (place) { bounds.extend(place.getLatLng()); }
    return bounds;
  }

  function fit(animate) {
    var bounds = boundsOfAll();
    if (!bounds.isValid()) { return; }
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
      map.setView(bounds.getCenter(), 13, { animate: animate });
    } else {
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: data.max_zoom_fit, animate: animate });
    }
  }

  function markerElement(marker) {
    var shown = cluster.getVisibleParent(marker);
    return shown ? shown.getElement() : null;
  }

  function highlight(id, on) {
    var marker = markers[id];
    if (!marker) { return; }
    var el = markerElement(marker);
    if (el) { el.classList.toggle("actif", on); }
  }

  function activateCard(id, focus) {
    Array.prototype.forEach.call(document.querySelectorAll(".fiche.actif"), function (c) {
      c.classList.remove("actif");
    });
    var card = cardOf(id);
    if (!card) { return; }
    card.classList.add("actif");
    if (focus && listVisible() && card.offsetParent !== null) {
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "nearest" });
    }
  }

  function popupContent(id) {
    var card = cardOf(id);
    var div = document.createElement("div");
    div.className = "popup";
    var name = document.createElement("a");
    name.className = "popup-nom";
    name.textContent = card ? card.getAttribute("data-nom") : "";
    name.href = card ? card.getAttribute("data-url") : "#";
    div.appendChild(name);
    var type = document.createElement("span");
    type.className = "popup-type";
    var parts = [card ? card.getAttribute("data-type") : ""];
    if (card && card.getAttribute("data-distance")) { parts.push(card.getAttribute("data-distance")); }
    type.textContent = parts.join(" · ");
    div.appendChild(type);
    // Open now or not, as the card says it (computed by the server at render).
    var status = card ? card.querySelector(".statut-horaires") : null;
    if (status) { div.appendChild(status.cloneNode(true)); }
    // The card's own call, write and itinerary links, copied as nodes (no HTML is parsed).
    var actions = card ? card.querySelectorAll(".actions-fiche a.action:not([data-site])") : [];
    if (actions.length) {
      var list = document.createElement("div");
      list.className = "popup-actions";
      Array.prototype.forEach.call(actions, function (a) { list.appendChild(a.cloneNode(true)); });
      div.appendChild(list);
    }
    if (card) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "bouton-secondaire";
      button.textContent = "Voir la fiche dans la liste";
      button.addEventListener("click", function () {
        setView("liste");
        activateCard(id, true);
      });
      div.appendChild(button);
    }
    return div;
  }

  function reveal(marker) {
    marker.openPopup();
    var el = marker.getElement();
    if (el) {
      el.classList.add("actif");
      el.focus();
    }
  }

  function showOnMap(id) {
    var marker = markers[id];
    if (!marker) { return; }
    if (!mapVisible()) { setView("carte"); }
    if (!mapVisible()) { return; }
    map.invalidateSize();
    // A map still moving may never call markercluster back: stop it, and zoom without animation.
    map.stop();
    if (cluster.getVisibleParent(marker) === marker) {
      reveal(marker);
      return;
    }
    map.setView(marker.getLatLng(), Math.max(map.getZoom(), cluster.options.disableClusteringAtZoom || 16),
      { animate: false });
    cluster.zoomToShowLayer(marker, function () { reveal(marker); });
  }


  function regionPopup(p) {
    var div = C.el("div", null, { "class": "popup" });
    var a = C.el("a", p.nom || "", { "class": "popup-nom", href: "/structures/" + encodeURIComponent(p.id) });
    div.appendChild(a);
    div.appendChild(C.el("span", [TYPE_NAMES[p.type] || "", [p.code_postal, p.commune].filter(Boolean).join(" ")]
      .filter(Boolean).join(" · "), { "class": "popup-type" }));
    return div;
  }

  // Each pin: its popup (built from its card in the list, else from its GeoJSON), and the list's sync.
  function relier(feature, marker) {
    var p = feature.properties || {};
    if (p.lieu) { place = marker; return; }
    var id = p.id;
    markers[id] = marker;
    if (p.answer) { answerIds.push(id); }
    var card = cardOf(id);
    marker.bindPopup(function () { return card ? popupContent(id) : regionPopup(p); }, { maxWidth: 260 });
    marker.on("click", function () { activateCard(id, true); });
    marker.on("popupclose", function () { highlight(id, false); });
    if (!card) { return; }
    ["mouseenter", "focusin"].forEach(function (name) {
      card.addEventListener(name, function () { highlight(id, true); });
    });
    ["mouseleave", "focusout"].forEach(function (name) {
      card.addEventListener(name, function () { highlight(id, false); });
    });
  }

  // Answer pins standing on one spot are drawn side by side: each feature learns its rank there.
  function rank(collection) {
    var spots = {};
    (collection.features || []).forEach(function (f) {
      var p = f.properties || {};
      if (!p.answer) { return; }
      var spot = f.geometry.coordinates.join(",");
      p._spot = (spots[spot] = (spots[spot] || 0) + 1) - 1;
    });
    return collection;
  }

  // Called by the skeleton once its layers exist: fill them, fit the first view, wire the page.
  function demarrer(parts) {
    map = parts.carte;
    cluster = parts.groupe;
    var name = map.getContainer().id;
    data = C.donnees(name);
    box = C.boite(name);
    results = document.querySelector("[data-resultats]");
    C.francais(map, parts.localiser);
    window[name + "_reponse"] = answerIds;
    var layers = [parts.reponse, parts.autres];
    var pending = layers.length;
    layers.forEach(function (layer) {
      layer.once("update", function () {
        pending -= 1;
        if (pending) { return; }
        if (data.geojson) {
          if (cluster.getLayers().length) { map.fitBounds(cluster.getBounds(), { padding: [20, 20] }); }
          box.setAttribute("data-charge", String(Object.keys(markers).length));
        } else {
          fit(false);
        }
      });
      layer.once("error", function () {
        box.setAttribute("data-charge", "erreur");
      });
      layer.update();
    });
    if (parts.contours) {
      // The standalone map opens on its territories' outlines: the whole département, pins inside.
      parts.contours.once("update", function () { fitContours(parts.contours); });
      parts.contours.update();
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-voir-carte]"), function (button) {
      button.addEventListener("click", function () { showOnMap(button.getAttribute("data-voir-carte")); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-vue]"), function (button) {
      button.addEventListener("click", function () { setView(button.getAttribute("data-vue")); });
    });
    box.setAttribute("data-pret", "1");
  }

  function fitContours(layer) {
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10], animate: false }); }
  }

  window.locatorCarte = {
    source: source, contours: contours, nommer: nommer, auPremierPlan: auPremierPlan, icone: icone,
    grappe: grappe, relier: relier, demarrer: demarrer
  };
})();

/* locator — the map beside the list, drawn from the page's JSON data (never from HTML or template
   strings): pins and popups with DOM text only, list ↔ map sync, the list/map switch on phones,
   French control labels, and the région's points loaded as GeoJSON. */
(function () {
  "use strict";

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

  var box = document.querySelector("[data-carte]");
  var source = box && box.querySelector("[data-carte-donnees]");
  var element = box && box.querySelector(".carte-leaflet");
  if (!source || !element || !window.L) { return; }
  var data = JSON.parse(source.textContent);

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

  function safeType(type) {
    return /^[a-z_]+$/.test(type || "") ? type : "partenaire";
  }

  // `shift`: how many answer pins already stand on this exact spot (one address, two structures):
  // each one more is drawn a pin's width to the right, so none hides another.
  function pinIcon(type, title, number, shift) {
    var texts = [{ text: title, hidden: true }];
    if (number !== null && number !== undefined) { texts.push({ text: String(number) }); }
    var dx = 30 * (shift || 0);
    return new TextIcon({
      html: "", texts: texts, className: "epingle epingle-" + safeType(type),
      iconSize: [32, 40], iconAnchor: [16 - dx, 40], popupAnchor: [dx, -36]
    });
  }

  // Cluster icons carry their count as text a screen reader can say (Leaflet makes them buttons).
  function clusterIcon(group) {
    var n = group.getChildCount();
    var size = n < 10 ? "small" : (n < 50 ? "medium" : "large");
    var outer = document.createElement("div");
    var count = document.createElement("span");
    count.textContent = String(n);
    var hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.textContent = " structures ici : agrandir la carte";
    count.appendChild(hint);
    outer.appendChild(count);
    return L.divIcon({ html: outer, className: "marker-cluster marker-cluster-" + size, iconSize: L.point(44, 44) });
  }

  var map = L.map(element, { center: data.centre, zoom: data.zoom, zoomControl: false });
  L.tileLayer(data.tiles.url, {
    attribution: data.tiles.attribution, maxZoom: data.tiles.max_zoom, subdomains: data.tiles.subdomains
  }).addTo(map);
  // French labels for Leaflet's own controls.
  L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
  var cluster = L.markerClusterGroup({
    iconCreateFunction: clusterIcon, showCoverageOnHover: false, maxClusterRadius: 40, spiderfyOnMaxZoom: true
  }).addTo(map);
  // Published under the page's names, so the browser tests (and a console) can reach them.
  window[box.getAttribute("data-carte")] = map;
  window[box.getAttribute("data-cluster")] = cluster;

  var results = document.querySelector("[data-resultats]");
  var markers = {};
  var place = null;

  // The answer's pins (its Mission locale, reception point, nearest others) sit on the map itself:
  // a cluster must never swallow them at the first view. The rest are clustered.
  var answerIds = [];
  var spots = {};
  cluster.addLayers((data.pins || []).map(function (pin) {
    var spot = pin.latitude + "," + pin.longitude;
    var shift = pin.answer ? (spots[spot] = (spots[spot] || 0) + 1) - 1 : 0;
    var marker = L.marker([pin.latitude, pin.longitude], {
      icon: pinIcon(pin.type, pin.title, pin.number, shift), title: pin.title, keyboard: true,
      riseOnHover: true, structureId: pin.id, zIndexOffset: pin.answer ? 500 : 0
    });
    markers[pin.id] = marker;
    if (pin.answer) {
      answerIds.push(pin.id);
      marker.addTo(map);
      return null;
    }
    return marker;
  }).filter(Boolean));
  window[box.getAttribute("data-carte") + "_reponse"] = answerIds;
  if (data.place) {
    var placeTitle = (data.place.name === "votre position" ? "Votre position" : "Lieu recherché : " + data.place.name);
    place = L.marker([data.place.latitude, data.place.longitude], {
      icon: new TextIcon({
        html: "", texts: [{ text: placeTitle, hidden: true }], className: "epingle-lieu",
        iconSize: [28, 28], iconAnchor: [14, 14]
      }),
      title: placeTitle,
      keyboard: true,
      zIndexOffset: -1000 // under the pins and clusters: it must not hide their numbers
    }).addTo(map);
  }

  map.on("popupopen", function (event) {
    var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close) {
      close.setAttribute("aria-label", "Fermer");
      close.setAttribute("title", "Fermer");
    }
  });

  function cardOf(id) {
    return document.querySelector('[data-fiche="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]');
  }

  function listVisible() {
    return !results || !results.classList.contains("vue-carte") || window.matchMedia("(min-width: 900px)").matches;
  }

  function mapVisible() {
    return box.offsetParent !== null;
  }

  function setView(view) {
    if (!results) { return; }
    results.classList.toggle("vue-carte", view === "carte");
    results.classList.toggle("vue-liste", view === "liste");
    Array.prototype.forEach.call(document.querySelectorAll("[data-vue]"), function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-vue") === view ? "true" : "false");
    });
    if (view === "carte") {
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

  Object.keys(markers).forEach(function (id) {
    var marker = markers[id];
    marker.bindPopup(function () { return popupContent(id); }, { maxWidth: 260 });
    marker.on("click", function () { activateCard(id, true); });
    marker.on("popupclose", function () { highlight(id, false); });
    var card = cardOf(id);
    if (!card) { return; }
    ["mouseenter", "focusin"].forEach(function (name) {
      card.addEventListener(name, function () { highlight(id, true); });
    });
    ["mouseleave", "focusout"].forEach(function (name) {
      card.addEventListener(name, function () { highlight(id, false); });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-voir-carte]"), function (button) {
    button.addEventListener("click", function () { showOnMap(button.getAttribute("data-voir-carte")); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-vue]"), function (button) {
    button.addEventListener("click", function () { setView(button.getAttribute("data-vue")); });
  });

  // The whole région: points come from the API as GeoJSON, not as thousands of inline markers.
  function loadGeojson(url) {
    fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (response) { return response.json(); })
      .then(function (collection) {
        var layers = [];
        (collection.features || []).forEach(function (feature) {
          var p = feature.properties || {};
          var c = feature.geometry && feature.geometry.coordinates;
          if (!c) { return; }
          var type = safeType(p.type);
          var marker = L.marker([c[1], c[0]], {
            title: p.nom || "",
            keyboard: true,
            icon: pinIcon(type, p.nom || "", null)
          });
          marker.bindPopup(function () {
            var div = document.createElement("div");
            div.className = "popup";
            var a = document.createElement("a");
            a.className = "popup-nom";
            a.href = "/structures/" + encodeURIComponent(p.id);
            a.textContent = p.nom || "";
            div.appendChild(a);
            var t = document.createElement("span");
            t.className = "popup-type";
            t.textContent = [TYPE_NAMES[type] || "", [p.code_postal, p.commune].filter(Boolean).join(" ")]
              .filter(Boolean).join(" · ");
            div.appendChild(t);
            return div;
          }, { maxWidth: 260 });
          layers.push(marker);
        });
        cluster.addLayers(layers);
        if (layers.length) { map.fitBounds(cluster.getBounds(), { padding: [20, 20] }); }
        box.setAttribute("data-charge", String(layers.length));
      })
      .catch(function () {
        box.setAttribute("data-charge", "erreur");
      });
  }

  var geojson = box.getAttribute("data-geojson");
  if (geojson) {
    loadGeojson(geojson);
  } else {
    fit(false);
  }
  box.setAttribute("data-pret", "1");
})();

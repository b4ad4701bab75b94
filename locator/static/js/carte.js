/* locator — the map beside the list: popups built from the cards (DOM text only), list ↔ map sync,
   the list/map switch on phones, French control labels, and the région's points loaded as GeoJSON. */
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
  if (!box || !window.L) { return; }
  var map = window[box.getAttribute("data-carte")];
  var cluster = window[box.getAttribute("data-cluster")];
  if (!map || !cluster) { return; }

  var results = document.querySelector("[data-resultats]");
  var markers = {};
  var place = null;

  map.eachLayer(function (layer) {
    if (layer instanceof L.Marker && !(layer instanceof L.MarkerCluster) && !layer.options.structureId) {
      place = layer;
    }
  });
  cluster.eachLayer(function (marker) {
    if (marker.options.structureId) { markers[marker.options.structureId] = marker; }
  });

  // French labels for Leaflet's own controls.
  if (map.zoomControl) {
    map.removeControl(map.zoomControl);
    L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
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

  function boundsOfAll() {
    var bounds = L.latLngBounds([]);
    Object.keys(markers).forEach(function (id) { bounds.extend(markers[id].getLatLng()); });
    if (place) { bounds.extend(place.getLatLng()); }
    return bounds;
  }

  function fit(animate) {
    var bounds = boundsOfAll();
    if (!bounds.isValid()) { return; }
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
      map.setView(bounds.getCenter(), 13, { animate: animate });
    } else {
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14, animate: animate });
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
          var type = /^[a-z_]+$/.test(p.type || "") ? p.type : "partenaire";
          var html = document.createElement("span");
          html.className = "visually-hidden";
          html.textContent = p.nom || "";
          var marker = L.marker([c[1], c[0]], {
            title: p.nom || "",
            keyboard: true,
            icon: L.divIcon({
              html: html, className: "epingle epingle-" + type,
              iconSize: [32, 40], iconAnchor: [16, 40], popupAnchor: [0, -36]
            })
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

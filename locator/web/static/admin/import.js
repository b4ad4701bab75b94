/* What the import preview's map (its folium skeleton: import.*.js) calls: one draggable pin per row;
   dropping a pin sends its new point and re-plans. The server sends a bounded number of rows
   (WIZARD_MAP_POINTS): when the file has more, the map asks again for the rows in view each time it
   moves, and says how many it shows. */
"use strict";

window.locatorImport = (function () {
  var A = window.LocatorAdmin;
  var map = null, data = {}, status = null, count = null;
  var partial = false, fitted = false, asked = 0, last = null;

  // A round dot of the row's colour (CSS class per action): no HTML string.
  function icone(action) {
    var safe = /^[a-z_]+$/.test(action || "") ? action : "inconnu";
    return window.locatorCartes.icone({
      texts: [], className: "repere-import repere-" + safe, iconSize: [24, 24], iconAnchor: [12, 12]
    });
  }

  // The rows of the file (of the map's view once the file has more than the server sends at once).
  function source() {
    return function (success, error) {
      var n = ++asked;
      var url = data.source + (partial && map ? "?bbox=" + map.getBounds().toBBoxString() : "");
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          if (n !== asked || !d.features) { return; }
          last = d;
          success(d);
        })
        .catch(function (e) { error(e, "lignes"); });
    };
  }

  function send(ligne, latlng) {
    status.textContent = "Ligne " + ligne + " : nouvelle position envoyée…";
    return fetch(data.position + ligne + "/position.json", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": A.csrfToken() },
      body: JSON.stringify({ latitude: latlng.lat, longitude: latlng.lng }),
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) {
        status.textContent = "Ligne " + ligne + " : " + (res.body.erreur || "position refusée.");
        return;
      }
      status.textContent = "Ligne " + ligne + " : " + res.body.libelle + ". Mise à jour de l'aperçu…";
      window.location.hash = "ligne-" + ligne;
      window.location.reload();
    });
  }

  function relier(feature, marker) {
    var p = feature.properties;
    var label = "Ligne " + p.ligne + " (" + p.libelle + ") : " + (p.nom || "");
    marker.bindPopup(A.popup(label, [p.commune].concat(p.messages || []),
      { href: "#ligne-" + p.ligne, text: "Voir la ligne dans la liste" }));
    marker.on("dragend", function () { send(p.ligne, marker.getLatLng()); });
    marker.on("add", function () {
      var el = marker.getElement && marker.getElement();
      if (el) el.setAttribute("data-ligne", p.ligne);
    });
  }

  function shown(layer) {
    var d = last || { features: [], total: 0 };
    partial = partial || d.total > d.features.length;
    if (count) {
      count.textContent = d.total > d.features.length
        ? d.features.length + " lignes sur la carte parmi les " + d.total + " de cette vue : zoomez pour voir les autres."
        : (partial ? d.total + " ligne(s) dans cette vue." : "");
    }
    var bounds = layer.getBounds();
    if (!fitted && bounds.isValid()) {
      fitted = true;
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14 });
    }
  }

  function demarrer(parts) {
    map = parts.carte;
    var name = map.getContainer().id;
    data = window.locatorCartes.donnees(name);
    status = document.getElementById("carte-etat");
    count = document.getElementById("carte-nombre");
    window.locatorCartes.francais(map, parts.localiser);
    var layer = parts.lignes;
    layer.on("update", function () { shown(layer); });
    map.on("moveend", function () { if (partial) layer.update(); });
    layer.update();
    window.locatorCartes.boite(name).setAttribute("data-pret", "1");
  }

  return { source: source, icone: icone, relier: relier, demarrer: demarrer };
})();

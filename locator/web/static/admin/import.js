/* Import preview map: one draggable pin per row; dropping a pin sends its new point and re-plans. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var container = document.getElementById("carte-import");
  if (!container || !window.L) return;
  var A = window.LocatorAdmin;
  var status = document.getElementById("carte-etat");
  var m = A.map(container);
  var colours = { nouveau: "#1f6f3b", mis_a_jour: "#1f3b73", inchange: "#6b6b6b", rejete: "#b00020" };

  function icon(action) {
    return L.divIcon({
      className: "repere-import repere-" + action,
      html: '<span style="display:block;width:18px;height:18px;border-radius:50%;border:3px solid #fff;'
        + 'box-shadow:0 0 0 2px ' + (colours[action] || "#333") + ';background:' + (colours[action] || "#333") + '"></span>',
      iconSize: [24, 24],
      iconAnchor: [12, 12],
    });
  }

  function send(ligne, latlng) {
    status.textContent = "Ligne " + ligne + " : nouvelle position envoyée…";
    return fetch(container.dataset.position + ligne + "/position.json", {
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

  // The server sends a bounded number of rows (WIZARD_MAP_POINTS): when the file has more, the map
  // asks again for the rows in view each time it moves, and says how many it shows.
  var layer = L.layerGroup().addTo(m);
  var count = document.getElementById("carte-nombre");
  var partial = false;
  var fitted = false;
  var asked = 0;

  function show(data) {
    layer.clearLayers();
    var bounds = [];
    data.features.forEach(function (f) {
      var p = f.properties;
      var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var label = "Ligne " + p.ligne + " (" + p.libelle + ") : " + (p.nom || "");
      var marker = L.marker(ll, { draggable: true, keyboard: true, title: label, alt: label, icon: icon(p.action) });
      marker.bindPopup(A.popup(label, [p.commune].concat(p.messages || []),
        { href: "#ligne-" + p.ligne, text: "Voir la ligne dans la liste" }));
      marker.on("dragend", function () { send(p.ligne, marker.getLatLng()); });
      marker.addTo(layer);
      var el = marker.getElement && marker.getElement();
      if (el) el.setAttribute("data-ligne", p.ligne);
      bounds.push(ll);
    });
    partial = partial || data.total > data.features.length;
    if (count) {
      count.textContent = data.total > data.features.length
        ? data.features.length + " lignes sur la carte parmi les " + data.total + " de cette vue : zoomez pour voir les autres."
        : (partial ? data.total + " ligne(s) dans cette vue." : "");
    }
    if (!fitted && bounds.length) {
      fitted = true;
      m.fitBounds(bounds, { padding: [30, 30], maxZoom: 14 });
    }
  }

  function load(box) {
    var n = ++asked;
    var url = container.dataset.source + (box ? "?bbox=" + box.toBBoxString() : "");
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (n === asked && data.features) show(data); });
  }

  m.on("moveend", function () { if (partial) load(m.getBounds()); });
  load(null);
});

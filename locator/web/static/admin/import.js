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

  fetch(container.dataset.source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var bounds = [];
      data.features.forEach(function (f) {
        var p = f.properties;
        var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        var label = "Ligne " + p.ligne + " (" + p.libelle + ") : " + (p.nom || "");
        var marker = L.marker(ll, { draggable: true, keyboard: true, title: label, alt: label, icon: icon(p.action) });
        marker.bindPopup(A.popup(label, [p.commune].concat(p.messages || []),
          { href: "#ligne-" + p.ligne, text: "Voir la ligne dans la liste" }));
        marker.on("dragend", function () { send(p.ligne, marker.getLatLng()); });
        marker.addTo(m);
        var el = marker.getElement && marker.getElement();
        if (el) el.setAttribute("data-ligne", p.ligne);
        bounds.push(ll);
      });
      if (bounds.length) m.fitBounds(bounds, { padding: [30, 30], maxZoom: 14 });
    });
});

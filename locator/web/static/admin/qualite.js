/* Data-quality map: one layer per check, toggled by the legend's checkboxes. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var container = document.getElementById("carte-qualite");
  if (!container || !window.L) return;
  var A = window.LocatorAdmin;
  var m = A.map(container);
  var colours = { positions: "#b34700", anciennes: "#6b6b6b", doublons: "#8a2be2", antennes: "#c00000", communes: "#d40000",
    plusieurs: "#e07b00", sans_liste: "#005a9c", sieges: "#2e7d32" };
  var communeChecks = ["communes", "plusieurs", "sans_liste"];
  var layers = {};
  var boxes = document.querySelectorAll('#legende-qualite input[name="controle"]');

  function sync() {
    boxes.forEach(function (box) {
      var layer = layers[box.value];
      if (!layer) return;
      if (box.checked) layer.addTo(m); else m.removeLayer(layer);
    });
  }

  fetch(container.dataset.source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var bounds = [];
      data.features.forEach(function (f) {
        var p = f.properties;
        var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        var layer = layers[p.controle] || (layers[p.controle] = L.layerGroup());
        var commune = communeChecks.indexOf(p.controle) >= 0;
        var link = commune ? { href: "/communes/" + encodeURIComponent(p.id), text: "Voir la commune" }
          : { href: "/admin/structures/" + encodeURIComponent(p.id), text: "Modifier la fiche" };
        L.circleMarker(ll, { radius: 6, color: colours[p.controle] || "#333", weight: 2, fillOpacity: 0.6 })
          .bindPopup(A.popup(p.nom, [p.probleme || "Aucune liste officielle ne nomme cette commune (territoire probable)."], link))
          .addTo(layer);
        if (p.controle !== "sans_liste") bounds.push(ll);
      });
      sync();
      if (bounds.length) m.fitBounds(bounds, { padding: [20, 20] });
    });
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
});

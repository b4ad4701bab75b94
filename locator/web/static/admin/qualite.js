/* What the data-quality map (its folium skeleton: qualite.*.js) calls: one set of points per check,
   toggled by the legend's checkboxes; popups of DOM text. */
"use strict";

window.locatorQualite = (function () {
  var A = window.LocatorAdmin;
  var COMMUNE_CHECKS = ["communes", "plusieurs", "sans_liste"];
  var sets = {};

  function source(name) {
    return function (success, error) {
      fetch(window.locatorCartes.donnees(name).source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(success)
        .catch(function (e) { error(e, "qualite"); });
    };
  }

  // A dot of the check's colour (CSS class per check): no HTML string.
  function icone(controle) {
    var safe = /^[a-z_]+$/.test(controle || "") ? controle : "inconnu";
    return window.locatorCartes.icone({
      texts: [], className: "repere-qualite repere-" + safe, iconSize: [14, 14], iconAnchor: [7, 7]
    });
  }

  function relier(feature, marker) {
    var p = feature.properties;
    (sets[p.controle] = sets[p.controle] || []).push(marker);
    var commune = COMMUNE_CHECKS.indexOf(p.controle) >= 0;
    var link = commune ? { href: "/communes/" + encodeURIComponent(p.id), text: "Voir la commune" }
      : { href: "/admin/structures/" + encodeURIComponent(p.id), text: "Modifier la fiche" };
    marker.bindPopup(A.popup(p.nom, [p.probleme || "Aucune liste officielle ne nomme cette commune (territoire probable)."], link));
  }

  function demarrer(parts) {
    var map = parts.carte, cluster = parts.groupe;
    var name = map.getContainer().id;
    window.locatorCartes.francais(map, parts.localiser);
    var boxes = document.querySelectorAll('#legende-qualite input[name="controle"]');
    function sync() {
      boxes.forEach(function (box) {
        var markers = sets[box.value] || [];
        if (box.checked) cluster.addLayers(markers); else cluster.removeLayers(markers);
      });
    }
    parts.problemes.once("update", function () {
      sync();
      var bounds = L.latLngBounds([]);
      Object.keys(sets).forEach(function (key) {
        if (key === "sans_liste") return;
        sets[key].forEach(function (m) { bounds.extend(m.getLatLng()); });
      });
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
      window.locatorCartes.boite(name).setAttribute("data-pret", "1");
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    parts.problemes.update();
  }

  return { source: source, icone: icone, relier: relier, demarrer: demarrer };
})();

// A link to one list (#controle-…) opens its folded <details>, then shows it.
(function () {
  function ouvrir() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", ouvrir);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ouvrir);
  else ouvrir();
})();

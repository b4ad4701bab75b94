/* What the position map (its folium skeleton: position.*.js) calls: a draggable pin tied both ways to
   the latitude / longitude fields of a form (structure form, import row fix). */
"use strict";

window.locatorFiche = (function () {
  var latInput = null, lonInput = null, data = {};

  function read(input) {
    var v = parseFloat(String(input.value).replace(",", "."));
    return isFinite(v) ? v : null;
  }

  // The point of the fields (else the page's default point) as the data layer's one feature.
  function point() {
    var lat = latInput ? read(latInput) : null, lon = lonInput ? read(lonInput) : null;
    if (lat === null || lon === null || lat < -90 || lat > 90 || lon < -180 || lon > 180) {
      lat = data.latitude; lon = data.longitude;
    }
    if (typeof lat !== "number" || typeof lon !== "number") { return { type: "FeatureCollection", features: [] }; }
    return { type: "FeatureCollection", features: [{ type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] },
                                                     properties: { id: "position" } }] };
  }

  function source() {
    return function (success) { success(point()); };
  }

  function write(latlng) {
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
  }

  function relier(feature, marker) {
    marker.on("dragend", function () {
      write(marker.getLatLng());
      latInput.dispatchEvent(new Event("change"));
    });
  }

  function demarrer(parts) {
    var map = parts.carte, layer = parts.repere;
    var name = map.getContainer().id;
    data = window.locatorCartes.donnees(name);
    latInput = document.getElementById("f-latitude");
    lonInput = document.getElementById("f-longitude");
    window.locatorCartes.francais(map, parts.localiser);
    if (!latInput || !lonInput) { return; }
    layer.once("update", function () {
      var first = point().features[0];
      if (first) { map.setView([first.geometry.coordinates[1], first.geometry.coordinates[0]], 16); }
    });
    layer.update();
    map.on("click", function (e) {
      write(e.latlng);
      layer.update();
    });
    [latInput, lonInput].forEach(function (input) {
      input.addEventListener("input", function () {
        var a = read(latInput), b = read(lonInput);
        if (a !== null && b !== null && a >= -90 && a <= 90 && b >= -180 && b <= 180) {
          layer.update();
          map.panTo([a, b]);  // the typed point stays in sight
        }
      });
    });
    window.locatorCartes.boite(name).setAttribute("data-pret", "1");
  }

  return { source: source, relier: relier, demarrer: demarrer };
})();

/* A draggable pin tied to the latitude / longitude fields of a form (structure form, import row fix). */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var container = document.getElementById("carte-fiche");
  var latInput = document.getElementById("f-latitude");
  var lonInput = document.getElementById("f-longitude");
  if (!container || !latInput || !lonInput || !window.L) return;
  var m = window.LocatorAdmin.map(container);
  var marker = null;

  function read(input) {
    var v = parseFloat(String(input.value).replace(",", "."));
    return isFinite(v) ? v : null;
  }

  function place(lat, lon, zoom) {
    if (marker) {
      marker.setLatLng([lat, lon]);
    } else {
      marker = L.marker([lat, lon], { draggable: true, keyboard: true, title: "Position de la structure", alt: "Position de la structure" }).addTo(m);
      marker.on("dragend", function () {
        var p = marker.getLatLng();
        latInput.value = p.lat.toFixed(6);
        lonInput.value = p.lng.toFixed(6);
        latInput.dispatchEvent(new Event("change"));
      });
    }
    if (zoom) m.setView([lat, lon], 16);
  }

  var lat = read(latInput), lon = read(lonInput);
  if (lat === null || lon === null) {
    lat = parseFloat(container.dataset.latDefaut);
    lon = parseFloat(container.dataset.lonDefaut);
  }
  if (isFinite(lat) && isFinite(lon)) place(lat, lon, true);

  m.on("click", function (e) {
    place(e.latlng.lat, e.latlng.lng, false);
    latInput.value = e.latlng.lat.toFixed(6);
    lonInput.value = e.latlng.lng.toFixed(6);
  });
  [latInput, lonInput].forEach(function (input) {
    input.addEventListener("input", function () {
      var a = read(latInput), b = read(lonInput);
      if (a !== null && b !== null && a >= -90 && a <= 90 && b >= -180 && b <= 180) {
        place(a, b, false);
        m.panTo([a, b]);  // the typed point stays in sight
      }
    });
  });
});

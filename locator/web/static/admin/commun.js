/* Shared helpers of the admin maps: a Leaflet map from a container's data-* settings, and popups
   built from DOM text nodes (never HTML strings: names come from spreadsheets). */
"use strict";

window.LocatorAdmin = (function () {
  function map(container) {
    var m = L.map(container, { scrollWheelZoom: false }).setView([45.52, 4.53], 7);
    L.tileLayer(container.dataset.tuiles, {
      attribution: container.dataset.attribution,
      maxZoom: parseInt(container.dataset.zoomMax || "19", 10),
    }).addTo(m);
    return m;
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function popup(title, lines, link) {
    var box = el("div");
    box.appendChild(el("strong", title));
    (lines || []).forEach(function (line) { if (line) box.appendChild(el("p", line)); });
    if (link) box.appendChild(el("a", link.text, { href: link.href }));
    return box;
  }

  function csrfToken() {
    var meta = document.querySelector('input[name="csrf_token"]');
    return meta ? meta.value : "";
  }

  return { map: map, el: el, popup: popup, csrfToken: csrfToken };
})();

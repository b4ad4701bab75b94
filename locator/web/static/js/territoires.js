/* locator — territory maps: the Missions locales' territories loaded as GeoJSON from our API and
   drawn with Leaflet; names go into the DOM as text (tooltips built from text nodes), never as HTML.
   The région's map opens fitted to the territories; 61 names cannot all be read at that scale, so a
   name shows on hover or keyboard focus, and stays shown from LABEL_ZOOM on (the table lists them all).
   A territory drawn from the official coverage list has a plain outline, an inferred one a dashed outline;
   a Mission locale of another région is named « (hors région) ». */
(function () {
  "use strict";
  var box = document.getElementById("carte-territoires");
  if (!box || !window.L) { return; }
  var PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"];
  var LABEL_ZOOM = 9;
  var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.1 }).setView([45.5, 4.5], 7);
  var attribution = JSON.parse(document.getElementById("territoires-attribution").textContent);
  L.tileLayer(box.dataset.tuiles, { attribution: attribution, maxZoom: Number(box.dataset.tuilesMax) }).addTo(map);
  var only = box.dataset.structure;
  var shapes = [];

  function label(props) {
    var span = document.createElement("span");
    span.className = "territoire-nom";
    span.textContent = props.nom + (props.hors_region ? " (hors région)" : "");
    return span;
  }

  function fiche(props) {
    return box.dataset.fiche ? box.dataset.fiche.replace("__id__", encodeURIComponent(props.id)) : null;
  }

  // Permanent labels only where there is room for them: rebound when the zoom crosses LABEL_ZOOM.
  function bindLabels() {
    var permanent = !only && map.getZoom() >= LABEL_ZOOM;
    shapes.forEach(function (shape) {
      if (shape._permanentLabel === permanent && shape.getTooltip()) { return; }
      shape.unbindTooltip();
      shape.bindTooltip(label(shape.feature.properties), {
        permanent: permanent, sticky: !permanent, direction: permanent ? "center" : "top",
        className: "territoire-etiquette"
      });
      shape._permanentLabel = permanent;
    });
    box.setAttribute("data-etiquettes", permanent ? "permanentes" : "survol");
    box.setAttribute("data-zoom", String(map.getZoom()));  // the zoom at rest (set at each zoomend)
  }

  // Each territory is a link for the keyboard too: focus shows its name, Enter opens its page.
  function keyboard(shape, href) {
    var path = shape.getElement && shape.getElement();
    if (!path || !href) { return; }
    path.setAttribute("tabindex", "0");
    path.setAttribute("role", "link");
    path.setAttribute("aria-label", shape.feature.properties.nom);
    path.addEventListener("focus", function () { shape.openTooltip(shape.getBounds().getCenter()); });
    path.addEventListener("blur", function () { if (!shape._permanentLabel) { shape.closeTooltip(); } });
    path.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { window.location.href = href; }
    });
  }

  fetch(box.dataset.territoires, { headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(function (data) {
      var features = data.type === "Feature" ? [data] : data.features;
      var index = 0;
      var layer = L.geoJSON({ type: "FeatureCollection", features: features.filter(function (f) { return f.geometry; }) }, {
        // An inferred (probable) territory is outlined in dashes: the official ones in plain lines.
        style: function (feature) {
          var color = PALETTE[index++ % PALETTE.length];
          var inferred = feature.properties.methode !== "couverture";
          return { color: "#333", weight: 1, dashArray: inferred ? "4 3" : null, fillColor: color,
                   fillOpacity: only ? 0.25 : 0.45 };
        },
        onEachFeature: function (feature, shape) {
          shapes.push(shape);
          var href = fiche(feature.properties);
          if (href) { shape.on("click", function () { window.location.href = href; }); }
        }
      }).addTo(map);
      // No animation: the map is ready (data-pret) only once it shows the whole région.
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false }); }
      bindLabels();
      map.on("zoomend", bindLabels);
      shapes.forEach(function (shape) { keyboard(shape, fiche(shape.feature.properties)); });
      box.setAttribute("data-pret", String(features.length));
    })
    .catch(function () {
      var p = document.createElement("p");
      p.textContent = "La carte des territoires n’a pas pu être chargée ; la liste les donne tous.";
      box.replaceWith(p);
    });
})();

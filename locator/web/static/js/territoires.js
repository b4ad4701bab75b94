/* locator — territory maps: the Missions locales' territories loaded as GeoJSON from our API and
   drawn with Leaflet; names go into the DOM as text (tooltips built from text nodes), never as HTML. */
(function () {
  "use strict";
  var box = document.getElementById("carte-territoires");
  if (!box || !window.L) { return; }
  var PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"];
  var map = L.map(box, { scrollWheelZoom: false }).setView([45.5, 4.5], 7);
  var attribution = JSON.parse(document.getElementById("territoires-attribution").textContent);
  L.tileLayer(box.dataset.tuiles, { attribution: attribution, maxZoom: Number(box.dataset.tuilesMax) }).addTo(map);
  var only = box.dataset.structure;

  function label(props) {
    var span = document.createElement("span");
    span.className = "territoire-nom";
    span.textContent = props.nom;
    return span;
  }

  fetch(box.dataset.territoires, { headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(function (data) {
      var features = data.type === "Feature" ? [data] : data.features;
      var index = 0;
      var layer = L.geoJSON({ type: "FeatureCollection", features: features.filter(function (f) { return f.geometry; }) }, {
        style: function () {
          var color = PALETTE[index++ % PALETTE.length];
          return { color: "#333", weight: 1, fillColor: color, fillOpacity: only ? 0.25 : 0.45 };
        },
        onEachFeature: function (feature, shape) {
          shape.bindTooltip(label(feature.properties), { permanent: !only, direction: "center", className: "territoire-etiquette" });
          if (box.dataset.fiche) {
            shape.on("click", function () {
              window.location.href = box.dataset.fiche.replace("__id__", encodeURIComponent(feature.properties.id));
            });
          }
        }
      }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
      box.setAttribute("data-pret", String(features.length));
    })
    .catch(function () {
      var p = document.createElement("p");
      p.textContent = "La carte des territoires n’a pas pu être chargée ; la liste les donne tous.";
      box.replaceWith(p);
    });
})();

/* locator — what the territories' map (its folium skeleton: territoires.*.js) calls: the Missions
   locales' territories fetched as GeoJSON from our API, names put into the DOM as text (tooltips built
   from text nodes), never as HTML. The région's map opens fitted to the territories; 61 names cannot all
   be read at that scale, so a name shows on hover or keyboard focus, and stays shown from LABEL_ZOOM on
   (the table lists them all). A territory drawn from the official coverage list has a plain outline, an
   inferred one a dashed outline; a Mission locale of another région is named « (hors région) ». */
(function () {
  "use strict";

  var C = window.locatorCartes;
  var PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"];
  var LABEL_ZOOM = 9;
  var map = null, box = null, data = {}, only = null;
  var shapes = [], colours = {};

  // The territories' API named by the page (all of them, or one Mission locale's).
  function source(name) {
    return function (success, error) {
      var url = C.donnees(name).source;
      fetch(url, { headers: { Accept: "application/geo+json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
        .then(function (d) {
          var features = d.type === "Feature" ? [d] : d.features;
          success({ type: "FeatureCollection", features: features.filter(function (f) { return f.geometry; }) });
        })
        .catch(function (e) { error(e, "territoires"); });
    };
  }

  // An inferred (probable) territory is outlined in dashes: the official ones in plain lines.
  function style(feature) {
    var id = feature.properties.id;
    if (!(id in colours)) { colours[id] = PALETTE[Object.keys(colours).length % PALETTE.length]; }
    var inferred = feature.properties.methode !== "couverture";
    return { color: "#333", weight: 1, dashArray: inferred ? "4 3" : null, fillColor: colours[id],
             fillOpacity: only ? 0.25 : 0.45 };
  }

  function label(props) {
    return C.el("span", props.nom + (props.hors_region ? " (hors région)" : ""), { "class": "territoire-nom" });
  }

  function fiche(props) {
    return data.fiche ? data.fiche.replace("__id__", encodeURIComponent(props.id)) : null;
  }

  function relier(feature, shape) {
    shapes.push(shape);
    var href = fiche(feature.properties);
    if (href) { shape.on("click", function () { window.location.href = href; }); }
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

  function demarrer(parts) {
    map = parts.carte;
    var name = map.getContainer().id;
    data = C.donnees(name);
    box = C.boite(name);
    only = data.structure || null;
    C.francais(map, parts.localiser);
    var layer = parts.territoires;
    layer.once("update", function (event) {
      // No animation: the map is ready (data-pret) only once it shows the whole région.
      var bounds = layer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8], animate: false }); }
      bindLabels();
      map.on("zoomend", bindLabels);
      shapes.forEach(function (shape) { keyboard(shape, fiche(shape.feature.properties)); });
      box.setAttribute("data-pret", String(Object.keys(event.features).length));
    });
    layer.once("error", function () {
      var p = C.el("p", "La carte des territoires n’a pas pu être chargée ; la liste les donne tous.");
      box.replaceWith(p);
    });
    layer.update();
  }

  window.locatorTerritoires = { source: source, style: style, relier: relier, demarrer: demarrer };
})();

/* locator — what the territories' map (its folium skeleton: territoires.*.js) calls: the Missions
   locales' territories fetched as GeoJSON from our API, names put into the DOM as text (never as HTML).
   The région's map opens fitted to the territories; 61 names cannot all be read at that scale, so a
   name shows on hover or keyboard focus, and from LABEL_ZOOM on every name is written where the
   server placed it (`etiquette`: inside its territory, clear of the others' names at that zoom); a
   name that would still cover another at the zoom shown is hidden, the more populous kept. A click or
   a tap names the territory in a popup with a link to its page: it never leaves the map by surprise.
   A territory drawn from the official coverage list has a plain outline, an inferred one a dashed
   outline; a Mission locale of another région is named « (hors région) ». The territory of the
   commune searched (`choisi`) is outlined in black, fitted and named at every zoom. */
(function () {
  "use strict";

  var C = window.locatorCartes;
  var PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"];
  var LABEL_ZOOM = 9;
  // No hover on a touch screen: a tap opens the popup, the name is in it.
  var TOUCH = !!(window.matchMedia && window.matchMedia("(hover: none)").matches);
  var map = null, box = null, data = {}, only = null, chosen = null;
  var shapes = [], colours = {}, names = null, labels = [];

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
    var picked = chosen !== null && id === chosen;
    return { color: picked ? "#000" : "#333", weight: picked ? 4 : 1, dashArray: inferred ? "4 3" : null,
             fillColor: colours[id],
             fillOpacity: picked ? 0.6 : (only || chosen !== null ? 0.2 : 0.45) };
  }

  function text(props) {
    return props.nom + (props.hors_region ? " (hors région)" : "");
  }

  function label(props) {
    return C.el("span", text(props), { "class": "territoire-nom" });
  }

  function fiche(props) {
    return data.fiche ? data.fiche.replace("__id__", encodeURIComponent(props.id)) : null;
  }

  // The popup of a click or a tap: the name, and the link to the Mission locale's page.
  function popup(props) {
    var content = C.el("div", null, { "class": "territoire-popup" });
    content.appendChild(C.el("p", text(props), { "class": "territoire-popup-nom" }));
    var href = fiche(props);
    if (href) { content.appendChild(C.el("a", "Voir la fiche de la Mission locale", { href: href })); }
    return content;
  }

  function relier(feature, shape) {
    shapes.push(shape);
    if (only) { return; }  // one Mission locale's own page: nothing more to name or link
    shape.bindPopup(function () { return popup(feature.properties); }, {
      className: "territoire-popup-boite", maxWidth: 260,
      autoPanPaddingTopLeft: L.point(56, 12)  // clear of the zoom and locate buttons
    });
  }

  // Where a territory's name is written: the server's position, else the middle of its outline.
  function anchor(shape) {
    var e = shape.feature.properties.etiquette;
    return e ? L.latLng(e.latitude, e.longitude) : shape.getBounds().getCenter();
  }

  // Hide each name whose box meets the box of a name kept before it (the chosen one first, then the
  // more populous): what is shown never overlaps, whatever the zoom and the screen.
  function declutter() {
    var kept = [];
    labels.forEach(function (entry) {
      var el = entry.tooltip.getElement();
      if (!el) { return; }
      el.classList.remove("territoire-etiquette-cachee");
      var r = el.getBoundingClientRect();
      var clash = kept.some(function (k) {
        return r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom;
      });
      if (clash) {
        el.classList.add("territoire-etiquette-cachee");
        el.setAttribute("aria-hidden", "true");
      } else {
        el.removeAttribute("aria-hidden");
        kept.push(r);
      }
    });
    box.setAttribute("data-etiquettes-visibles", String(kept.length));
  }

  function priority(a, b) {
    var pa = a.shape.feature.properties, pb = b.shape.feature.properties;
    if ((pa.id === chosen) !== (pb.id === chosen)) { return pa.id === chosen ? -1 : 1; }
    return (pb.population || 0) - (pa.population || 0) || (pa.id < pb.id ? -1 : 1);
  }

  // Names written on the map from LABEL_ZOOM on (and the chosen territory's at every zoom); below
  // it, a name shows on hover or focus only (no hover on a touch screen: the tap's popup names it).
  function bindLabels() {
    var permanent = !only && map.getZoom() >= LABEL_ZOOM;
    if (names) { names.clearLayers(); }
    labels = [];
    shapes.forEach(function (shape) {
      var props = shape.feature.properties;
      var written = permanent || props.id === chosen;
      if (written) {
        var tip = L.tooltip({ permanent: true, direction: "center", interactive: false,
                              className: "territoire-etiquette" + (props.id === chosen ? " territoire-etiquette-choisie" : "") })
          .setLatLng(anchor(shape)).setContent(label(props));
        labels.push({ tooltip: tip, shape: shape });
      }
      var hover = !written && !TOUCH;
      if (hover && !shape.getTooltip()) {
        shape.bindTooltip(label(props), { sticky: true, direction: "top", className: "territoire-etiquette" });
      } else if (!hover && shape.getTooltip()) {
        shape.unbindTooltip();
      }
    });
    labels.sort(priority);
    labels.forEach(function (entry) { names.addLayer(entry.tooltip); });
    declutter();
    box.setAttribute("data-etiquettes", permanent ? "permanentes" : "survol");
    box.setAttribute("data-zoom", String(map.getZoom()));  // the zoom at rest (set at each zoomend)
  }

  // Each territory is a link for the keyboard too: focus shows its name, Enter opens its page.
  function keyboard(shape, href) {
    var path = shape.getElement && shape.getElement();
    if (!path || !href) { return; }
    var props = shape.feature.properties;
    path.setAttribute("tabindex", "0");
    path.setAttribute("role", "link");
    path.setAttribute("aria-label", props.nom);
    if (props.id === chosen) { path.classList.add("territoire-choisi"); }
    path.addEventListener("focus", function () {
      if (shape.getTooltip()) { shape.openTooltip(anchor(shape)); }
    });
    path.addEventListener("blur", function () { if (shape.getTooltip()) { shape.closeTooltip(); } });
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
    chosen = data.choisi || null;
    names = L.layerGroup().addTo(map);
    C.francais(map, parts.localiser);
    var layer = parts.territoires;
    layer.once("update", function (event) {
      // No animation: the map is ready (data-pret) only once it shows the whole région, or the
      // territory of the commune searched.
      var picked = shapes.filter(function (s) { return s.feature.properties.id === chosen; })[0];
      if (picked) { picked.bringToFront(); }
      var bounds = picked ? picked.getBounds() : layer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8], animate: false }); }
      bindLabels();
      map.on("zoomend", bindLabels);
      map.on("resize", declutter);
      shapes.forEach(function (shape) { keyboard(shape, fiche(shape.feature.properties)); });
      if (picked) { box.setAttribute("data-choisi", chosen); }
      box.setAttribute("data-pret", String(Object.keys(event.features).length));
    });
    layer.once("error", function () {
      var p = C.el("p", "La carte des territoires n’a pas pu être chargée ; la liste les donne tous.");
      box.replaceWith(p);
    });
    layer.update();
  }

  window.locatorTerritoires = { source: source, style: style, relier: relier, demarrer: demarrer };
})();

"""Folium maps for the pages, cut into header / html / script parts for our own templates.

Every script and stylesheet comes from the app's static files (npm packages copied by `make install`):
folium's defaults point at CDNs and its Map header forbids zooming the page, so both are replaced.
Popups are not folium's (they are built from jQuery template literals, where `${...}` would run):
our `carte.js` builds them from the list's own cards, with DOM text, never HTML strings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

# Static paths (under /static/) of the npm files copied by `make install`.
LEAFLET_JS = "vendor/leaflet/leaflet.js"
LEAFLET_CSS = "vendor/leaflet/leaflet.css"
CLUSTER_JS = "vendor/leaflet.markercluster/leaflet.markercluster.js"
CLUSTER_CSS = (
    "vendor/leaflet.markercluster/MarkerCluster.css",
    "vendor/leaflet.markercluster/MarkerCluster.Default.css",
)

# Centre and zoom of the whole région (Auvergne-Rhône-Alpes) before the points are loaded.
REGION_CENTRE = (45.52, 4.53)
REGION_ZOOM = 7

# Cluster icons carry their count as text a screen reader can say (Leaflet makes them buttons).
_CLUSTER_ICON = """
function (cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? "small" : (n < 50 ? "medium" : "large");
    return L.divIcon({
        html: "<div><span>" + n + "<span class=\\"visually-hidden\\"> structures ici : "
            + "agrandir la carte</span></span></div>",
        className: "marker-cluster marker-cluster-" + size,
        iconSize: L.point(44, 44)
    });
}
"""


@dataclass
class Pin:
    """A structure on the map; `numero` is its number in the page's list (None: not numbered)."""

    id: str
    nom: str
    type: str
    latitude: float
    longitude: float
    numero: int | None = None


@dataclass
class MapParts:
    """What a template needs: links for <head>, the map's element, its script, and JS names."""

    header: Markup
    html: Markup
    script: Markup
    map_name: str
    cluster_name: str


def load_folium():
    """Import folium without pandas: folium only uses pandas to accept DataFrames, which we never
    pass, and pandas would add some 40 MB to every web worker that draws a map.
    """
    if "folium" in sys.modules:
        return sys.modules["folium"]
    hide = "pandas" not in sys.modules
    if hide:
        sys.modules["pandas"] = None  # makes folium's optional `import pandas` fail, as if absent
    try:
        import folium
        import folium.plugins  # noqa: F401  (imports pandas-aware helpers too)
    finally:
        if hide:
            del sys.modules["pandas"]  # a later, real `import pandas` works as usual
    return folium


def tile_layer(settings: dict[str, Any]) -> dict[str, Any]:
    """Return the tile layer chosen by the TILES setting (url, attribution, max_zoom), TILE_URL first."""
    layers = settings["TILE_LAYERS"]
    layer = dict(layers.get(settings["TILES"]) or layers["openstreetmap"])
    if settings.get("TILE_URL"):
        layer["url"] = settings["TILE_URL"]
    return layer


def tile_origin(url: str) -> str:
    """Return the scheme://host[:port] of a tile URL template (for the Content-Security-Policy)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def build(
    pins: Sequence[Pin],
    static_url: Callable[[str], str],
    tiles: dict[str, Any],
    place: tuple[float, float, str] | None = None,
    label: str = "Carte des résultats",
    max_zoom_fit: int = 14,
) -> MapParts:
    """Return a map of these structures (clustered, numbered pins) and the searched place.

    The view is fitted to everything shown; with nothing to show it covers the région, and the
    page's script may then load the région's points from the API (GeoJSON) into the empty cluster.
    """
    folium = load_folium()
    from folium.plugins import MarkerCluster

    m = _Map(location=list(REGION_CENTRE), zoom_start=REGION_ZOOM, tiles=None, label=label)
    m.default_js = [("leaflet", static_url(LEAFLET_JS))]
    m.default_css = [("leaflet_css", static_url(LEAFLET_CSS))]
    folium.TileLayer(
        tiles=tiles["url"],
        attr=tiles["attribution"],
        max_zoom=tiles.get("max_zoom", 18),
        name="fond",
        subdomains="abc",
    ).add_to(m)
    cluster = MarkerCluster(
        icon_create_function=_CLUSTER_ICON,
        show_coverage_on_hover=False,
        max_cluster_radius=40,
        spiderfy_on_max_zoom=True,
    )
    cluster.default_js = [("markerclusterjs", static_url(CLUSTER_JS))]
    cluster.default_css = [(f"markerclustercss{i}", static_url(p)) for i, p in enumerate(CLUSTER_CSS)]
    cluster.add_to(m)
    points = []
    for pin in pins:
        folium.Marker(
            [pin.latitude, pin.longitude],
            icon=_pin_icon(pin),
            title=_pin_title(pin),
            keyboard=True,
            rise_on_hover=True,
            structure_id=pin.id,
        ).add_to(cluster)
        points.append((pin.latitude, pin.longitude))
    if place is not None:
        lat, lon, name = place
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(
                html=str(Markup('<span class="visually-hidden">Lieu recherché : {}</span>').format(name)),
                icon_size=(28, 28),
                icon_anchor=(14, 14),
                class_name="epingle-lieu",
            ),
            title=f"Lieu recherché : {name}",
            keyboard=True,
            z_index_offset=-1000,  # under the pins and clusters: it must not hide their numbers
        ).add_to(m)
        points.append((lat, lon))
    if len(points) == 1:
        m.location = [points[0][0], points[0][1]]
        m.options["zoom"] = 13
    elif points:
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        m.fit_bounds(
            [[min(lats), min(lons)], [max(lats), max(lons)]], padding=(30, 30), max_zoom=max_zoom_fit
        )
    return _parts(m, cluster)


def _pin_title(pin: Pin) -> str:
    return f"{pin.numero}. {pin.nom}" if pin.numero is not None else pin.nom


def _pin_icon(pin: Pin):
    folium = load_folium()

    text = str(pin.numero) if pin.numero is not None else ""
    html = Markup('<span class="visually-hidden">{}</span><span aria-hidden="true">{}</span>').format(
        _pin_title(pin), text
    )
    return folium.DivIcon(
        html=str(html),
        icon_size=(32, 40),
        icon_anchor=(16, 40),
        popup_anchor=(0, -36),
        class_name=f"epingle epingle-{escape(pin.type)}",
    )


def _parts(m, cluster) -> MapParts:
    from branca.element import CssLink, JavascriptLink

    figure = m.get_root()
    figure.render()
    links = [
        child.render()
        for child in figure.header._children.values()
        if isinstance(child, (JavascriptLink, CssLink))
    ]
    # folium's output is trusted markup: every value in it went through its JSON escaping
    # (`<`, `>`, `&` and `'` as \u escapes), so nothing from the data can close the script.
    return MapParts(
        header=Markup("\n".join(links)),  # noqa: S704
        html=Markup(figure.html.render()),  # noqa: S704
        script=Markup(figure.script.render()),  # noqa: S704
        map_name=m.get_name(),
        cluster_name=cluster.get_name(),
    )


def _map_class():
    folium = load_folium()
    from folium.template import Template

    class Map(folium.Map):
        """folium's Map without its page-wide styles and its zoom-forbidding viewport tag."""

        _template = Template(
            """
            {% macro header(this, kwargs) %}{% endmacro %}
            {% macro html(this, kwargs) %}
                <div class="folium-map" id={{ this.get_name()|tojson }} role="region"
                     aria-label="{{ this.label|e }}"></div>
            {% endmacro %}
            {% macro script(this, kwargs) %}
                var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {
                    center: {{ this.location|tojson }},
                    crs: L.CRS.{{ this.crs }},
                    ...{{ this.options|tojavascript }}
                });
            {% endmacro %}
            """
        )

        def __init__(self, *args, label: str = "Carte", **kwargs):
            super().__init__(*args, **kwargs)
            self.label = label

    return Map


def _Map(*args, **kwargs):  # noqa: N802 (a class built on first use, so folium loads lazily)
    global _MAP_CLASS
    if _MAP_CLASS is None:
        _MAP_CLASS = _map_class()
    return _MAP_CLASS(*args, **kwargs)


_MAP_CLASS = None

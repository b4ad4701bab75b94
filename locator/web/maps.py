"""Leaflet maps for the pages: links for <head>, the map's element, and its data as JSON.

Data is never template: names and places leave Python only as JSON inside a
`<script type="application/json">` block, which the browser does not run and no template engine
reads again; our `carte.js` makes the map, the markers and the popups from it with DOM text.
(folium re-read each marker's rendered script as a new, unsandboxed Jinja template, so a
structure's name could run code on the server.) Every script and stylesheet comes from the app's
static files (npm packages copied by `make install`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

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

# Names under which carte.js publishes the map and its cluster on `window` (one map a page).
MAP_NAME = "carte_leaflet"
CLUSTER_NAME = "groupe_leaflet"


@dataclass
class Pin:
    """A structure on the map; `numero` is its number in the page's list (None: not numbered)."""

    id: str
    nom: str
    type: str
    latitude: float
    longitude: float
    numero: int | None = None
    answer: bool = False  # part of the answer: drawn outside the cluster, and the first view fits it


@dataclass
class MapParts:
    """What a template needs: links for <head>, the map's element and data, and JS names."""

    header: Markup
    html: Markup
    map_name: str
    cluster_name: str


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

    Coordinates are WGS84 (latitude, longitude). carte.js fits the view to everything shown; with
    nothing to show it covers the région, and may then load the région's points from the API.
    """
    data = map_data(pins, tiles, place, max_zoom_fit)
    html = Markup(
        '<div class="carte-leaflet" id="carte-leaflet" role="region" aria-label="{}"></div>\n'
        '<script type="application/json" data-carte-donnees>{}</script>'
    ).format(label, htmlsafe_json_dumps(data))  # JSON with <, >, & and ' escaped: it cannot close the block
    return MapParts(header=_links(static_url), html=html, map_name=MAP_NAME, cluster_name=CLUSTER_NAME)


def map_data(
    pins: Sequence[Pin],
    tiles: dict[str, Any],
    place: tuple[float, float, str] | None = None,
    max_zoom_fit: int = 14,
) -> dict[str, Any]:
    """Return what carte.js draws: tiles, the région's view, the pins and the searched place."""
    return {
        "tiles": {
            "url": tiles["url"],
            "attribution": tiles["attribution"],
            "max_zoom": tiles.get("max_zoom", 18),
            "subdomains": "abc",
        },
        "centre": list(REGION_CENTRE),
        "zoom": REGION_ZOOM,
        "max_zoom_fit": max_zoom_fit,
        "pins": [_pin(pin) for pin in pins],
        "place": None if place is None else {"latitude": place[0], "longitude": place[1], "name": place[2]},
    }


def _pin(pin: Pin) -> dict[str, Any]:
    title = f"{pin.numero}. {pin.nom}" if pin.numero is not None else pin.nom
    return {
        "id": pin.id,
        "type": pin.type,
        "title": title,
        "number": pin.numero,
        "answer": pin.answer,
        "latitude": pin.latitude,
        "longitude": pin.longitude,
    }


def leaflet_links(static_url: Callable[[str], str]) -> Markup:
    """The Leaflet assets alone, for pages drawing their own map (the territories)."""
    return _links(static_url)


def _links(static_url: Callable[[str], str]) -> Markup:
    """Stylesheets and scripts of Leaflet and its cluster plugin, from the app's static files."""
    css = [
        Markup('<link rel="stylesheet" href="{}">').format(static_url(p)) for p in (LEAFLET_CSS, *CLUSTER_CSS)
    ]
    js = [Markup('<script src="{}"></script>').format(static_url(p)) for p in (LEAFLET_JS, CLUSTER_JS)]
    return Markup("\n").join(css + js)

"""The maps of the pages: folium's skeletons (rendered offline, see `locator.maps`), and their data as JSON.

A page gets, for each map: the files the skeleton needs (Leaflet and its plugins from npm, our helpers,
then the skeleton's content-hashed script, all under `script-src 'self'`), folium's map element, and the
map's data in a `<script type="application/json">` block that the browser does not run and no
template engine reads again. This module reads the skeletons' manifest: it never imports folium.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from ..maps import KINDS, manifest_path
from . import typography

# Names under which the pins' skeleton publishes the map and its cluster on `window` (one map a page).
MAP_NAME = KINDS["structures"]
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


class MapsNotBuilt(RuntimeError):
    """The skeletons' files are missing: `make install` (or `python -m locator.maps`) writes them."""


@functools.cache
def manifest(path: Path | None = None) -> dict[str, Any]:
    """Return the skeletons' manifest (kind → script, files, element), read once per process."""
    file = path or manifest_path()
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MapsNotBuilt(
            f"Les cartes ne sont pas écrites ({file}) : "
            "lancez « make install » ou « python -m locator.maps »."
        ) from None


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


def tiles_data(tiles: dict[str, Any]) -> dict[str, Any]:
    """The tile layer as the skeletons read it from the page."""
    return {
        "url": tiles["url"],
        "attribution": tiles["attribution"],
        "max_zoom": tiles.get("max_zoom", 18),
    }


def assets(kinds: Iterable[str], static_url: Callable[[str], str]) -> Markup:
    """<link>s and deferred <script>s for these map kinds: each file once, in folium's order, then
    each skeleton's script (deferred scripts run in document order, after the page is parsed)."""
    found = manifest()
    css: list[str] = []
    js: list[str] = []
    scripts: list[str] = []
    for kind in kinds:
        entry = found[kind]
        css += [p for p in entry["css"] if p not in css]
        js += [p for p in entry["js"] if p not in js]
        scripts.append(entry["script"])
    links = [Markup('<link rel="stylesheet" href="{}">').format(static_url(p)) for p in css]
    links += [Markup('<script src="{}" defer></script>').format(static_url(p)) for p in js + scripts]
    return Markup("\n").join(links)


def element(kind: str, data: dict[str, Any], label: str, box_class: str = "carte-leaflet") -> Markup:
    """folium's map element inside a labelled box, and the map's data as a JSON block."""
    name = manifest()[kind]["nom"]
    return Markup(
        '<div class="{}" role="region" aria-label="{}">{}</div>\n'
        '<script type="application/json" data-carte-donnees="{}">{}</script>'
    ).format(
        box_class,
        typography.text(label),
        Markup(manifest()[kind]["html"]),  # noqa: S704 (folium's <div> of the map, written offline: no data)
        name,
        htmlsafe_json_dumps(data),  # JSON with <, >, & and ' escaped: it cannot close the block
    )


def build(
    pins: Sequence[Pin],
    static_url: Callable[[str], str],
    tiles: dict[str, Any],
    place: tuple[float, float, str] | None = None,
    label: str = "Carte des résultats",
    max_zoom_fit: int = 14,
    geojson: str | None = None,
) -> MapParts:
    """Return a map of these structures (clustered, numbered pins) and the searched place.

    Coordinates are WGS84 (latitude, longitude). The skeleton fits the view to everything shown; with
    nothing to show it covers the région, or loads the région's points from `geojson` (the API).
    """
    data = map_data(pins, tiles, place, max_zoom_fit)
    if geojson:
        data["geojson"] = geojson
    return MapParts(
        header=assets(["structures"], static_url),
        html=element("structures", data, label),
        map_name=MAP_NAME,
        cluster_name=CLUSTER_NAME,
    )


def map_data(
    pins: Sequence[Pin],
    tiles: dict[str, Any],
    place: tuple[float, float, str] | None = None,
    max_zoom_fit: int = 14,
) -> dict[str, Any]:
    """Return what the pins' skeleton draws: tiles, the pins and the searched place."""
    return {
        "tiles": tiles_data(tiles),
        "max_zoom_fit": max_zoom_fit,
        "pins": [_pin(pin) for pin in pins],
        "place": None if place is None else {"latitude": place[0], "longitude": place[1], "name": place[2]},
    }


def _pin(pin: Pin) -> dict[str, Any]:
    nom = typography.text(pin.nom)  # as the page writes it (the popup shows the card's text)
    title = f"{pin.numero}. {nom}" if pin.numero is not None else nom
    return {
        "id": pin.id,
        "type": pin.type,
        "title": title,
        "number": pin.numero,
        "answer": pin.answer,
        "latitude": pin.latitude,
        "longitude": pin.longitude,
    }

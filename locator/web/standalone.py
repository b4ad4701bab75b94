"""The map to take away: one HTML file (folium's standalone page) that opens with no server and no network.

folium renders the page with no data in it (`locator.maps.skeletons.standalone_skeleton`: every script,
stylesheet and image inlined as data: URIs); its title, the list of structures and the map's data are
put into its slots afterwards by plain string work, so no template engine ever reads them. The data is
JSON made Jinja-neutral all the same (`locator.maps.neutral_json`), and the list is escaped HTML whose
braces are character references: a backstop, should the file ever meet a template engine.

Offline, the tiles do not load: the page then shows the pins, the outlines of the Missions locales'
territories (they draw the département) and, under the map, the list (name, address, phone), which
also prints.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from .. import lookup
from ..maps import SLOT_BODY, SLOT_DATA, SLOT_TITLE, STANDALONE, neutral_json
from ..store.schema import STRUCTURE_TYPES
from . import formatting, maps

# Coordinates of the territories' outlines are rounded to this many decimals (about 11 m): a lighter file.
OUTLINE_DECIMALS = 4


def page(
    conn: sqlite3.Connection,
    skeleton: str,
    tiles: dict[str, Any],
    region: str,
    departement: str | None = None,
    types: Sequence[str] | None = None,
) -> str:
    """Return the standalone HTML map of a département (or the whole région) for these types."""
    if departement:
        info = lookup.departement_info(conn, departement)
        if info is None:
            raise ValueError(f"Aucun département n’a le code « {departement[:10]} ».")
        deps = [info]
        title = f"Les structures du département {info['nom']} ({info['code']})"
    else:
        deps = lookup.departements(conn, region)
        title = "Les structures de la région Auvergne-Rhône-Alpes"
    structures = [s for d in deps for s in lookup.in_departement(conn, d["code"], types)]
    ordered = [s for t in STRUCTURE_TYPES for s in structures if s["type"] == t]
    pins = [
        maps.Pin(s["id"], s["nom"], s["type"], s["latitude"], s["longitude"], i + 1)
        for i, s in enumerate(ordered)
        if s.get("latitude") is not None
    ]
    data = maps.map_data(pins, tiles)
    data["contours"] = _outlines(conn, [d["code"] for d in deps])
    return fill(skeleton, title, listing(ordered, tiles), data)


def fill(skeleton: str, title: str, body: str, data: dict[str, Any]) -> str:
    """Put the title, the list and the data into the skeleton's slots (no template engine)."""
    block = (
        f'<script type="application/json" data-carte-donnees="{maps.MAP_NAME}">{neutral_json(data)}</script>'
    )
    html = skeleton.replace(SLOT_TITLE, _neutral_html(escape(title)))
    return html.replace(SLOT_BODY, body, 1).replace(SLOT_DATA, block, 1)


def listing(structures: Sequence[dict[str, Any]], tiles: dict[str, Any]) -> str:
    """The structures as numbered cards (the map's popups copy their links), and the tiles' credit."""
    cards = []
    for number, s in enumerate(structures, 1):
        address = [
            formatting.pretty_address(s.get("adresse")),
            formatting.pretty_address(s.get("complement_adresse")),
        ]
        town = " ".join(p for p in (s.get("code_postal"), s.get("commune")) if p)
        lines = Markup("<br>").join(escape(p) for p in [*address, town] if p)
        actions = []
        tel = formatting.tel_href(s.get("telephone"))
        if tel:
            actions.append(
                Markup('<li><a class="action" href="{}">Appeler le {}</a></li>').format(
                    tel, formatting.telephone(s["telephone"])
                )
            )
        elif s.get("telephone"):
            actions.append(Markup("<li>Téléphone : {}</li>").format(formatting.telephone(s["telephone"])))
        mail = formatting.mailto(s.get("courriel"))
        if mail:
            actions.append(
                Markup('<li><a class="action" href="{}">Écrire à {}</a></li>').format(mail, s["courriel"])
            )
        if s.get("latitude") is not None:
            actions.append(
                Markup(
                    '<li><a class="action" href="{}" rel="noopener">Itinéraire (en ligne)</a></li>'
                ).format(formatting.directions_url(s["latitude"], s["longitude"]))
            )
        cards.append(
            Markup(
                '<article class="fiche fiche-{type}" id="fiche-{id}" data-fiche="{id}" data-nom="{nom}"'
                ' data-type="{label}" data-url="#fiche-{id}" tabindex="-1">'
                '<h3 class="fiche-titre"><span class="numero numero-{type}">{n}</span> {nom}</h3>'
                '<p class="fiche-type">{label}</p><p class="adresse">{lines}</p>'
                '<ul class="actions-fiche">{actions}</ul></article>'
            ).format(
                type=s["type"],
                id=s["id"],
                nom=s["nom"],
                label=formatting.type_label(s["type"]),
                n=number,
                lines=lines,
                actions=Markup("").join(actions),
            )
        )
    count = len(structures)
    body = Markup(
        '<section class="autonome-liste-bloc" aria-labelledby="titre-liste"><h2 id="titre-liste">'
        "La liste ({count} structure{s})</h2>"
        '<div class="autonome-liste">{cards}</div>'
        '<p class="autonome-credits">Fond de carte (en ligne) : {credit}. Données : locator, '
        "Annuaire de l’administration (DILA), INSEE, IGN, La Poste.</p></section>"
    ).format(
        count=count,
        s="s" if count > 1 else "",
        cards=Markup("\n").join(cards) or Markup("<p>Aucune structure.</p>"),
        credit=Markup(tiles["attribution"]),  # noqa: S704 (a setting's HTML, the same as on the pages)
    )
    return _neutral_html(body)


def _neutral_html(html: str) -> str:
    """HTML whose braces are character references: `{{`, `{%`, `{#` can no longer be read as syntax."""
    return str(html).replace("{", "&#123;").replace("}", "&#125;")


def _outlines(conn: sqlite3.Connection, departements: Sequence[str]) -> dict[str, Any]:
    """The territories of the Missions locales seated in these départements, as a FeatureCollection."""
    features = []
    for code in departements:
        for ml in lookup.in_departement(conn, code, ["mission_locale"]):
            t = lookup.territory_of(conn, ml["id"])
            if t and t.get("geometrie"):
                geometry = json.loads(t["geometrie"])
                geometry["coordinates"] = _rounded(geometry["coordinates"])
                features.append(
                    {
                        "type": "Feature",
                        "geometry": geometry,
                        "properties": {"id": ml["id"], "nom": ml["nom"]},
                    }
                )
    return {"type": "FeatureCollection", "features": features}


def _rounded(coordinates: Any) -> Any:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [round(c, OUTLINE_DECIMALS) for c in coordinates]
    return [_rounded(c) for c in coordinates]


def skeleton_file(static: Path) -> Path:
    """The standalone skeleton rendered at `make install` (see locator.maps)."""
    return static / maps.manifest()[STANDALONE]["page"]


# The files already built, newest last: (store version, département, types, settings) → HTML.
_KEPT: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_KEPT_MOST = 16  # each about half a megabyte: a few MB per worker at most
_LOCK = threading.Lock()


def cached_page(
    conn: sqlite3.Connection,
    static: Path,
    tiles: dict[str, Any],
    region: str,
    departement: str,
    types: Sequence[str] | None,
    version: tuple[str, int],
) -> str:
    """The département's standalone map, built once per département, types and store version."""
    skeleton = skeleton_file(static)
    key = (version, departement, tuple(types or ()), json.dumps(tiles, sort_keys=True), str(skeleton))
    with _LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key]
    html = page(conn, skeleton.read_text(encoding="utf-8"), tiles, region, departement, types)
    with _LOCK:
        _KEPT[key] = html
        while len(_KEPT) > _KEPT_MOST:
            _KEPT.popitem(last=False)
    return html

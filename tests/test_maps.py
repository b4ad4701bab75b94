"""Maps built for our templates: our own assets, data as JSON (never template source), no CDN."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from html import unescape
from pathlib import Path

import pytest
from import_helpers import run_import

from locator import config
from locator.testing import serve_in_background
from locator.web import maps

HOSTILE = "<img src=x onerror=alert(1)></script><script>alert(2)</script>${alert(3)}`"


def _static(path: str) -> str:
    return "/static/" + path


def _data(html_text: str) -> dict:
    """The map's data, read back from its JSON block as the browser's script reads it."""
    found = re.search(
        r'<script type="application/json" data-carte-donnees="carte_leaflet">(.*?)</script>', html_text, re.S
    )
    assert found, "no map data in the page"
    return json.loads(found.group(1))


def _build(**settings):
    tiles = maps.tile_layer(config.load(settings))
    pins = [
        maps.Pin("a", HOSTILE, "cio", 45.55, 3.74, 1),
        maps.Pin("b", "Mission locale du Livradois-Forez", "mission_locale", 45.5506, 3.7381, 2),
    ]
    return maps.build(pins, _static, tiles, place=(45.549, 3.742, "Ambert"))


def test_every_script_and_stylesheet_is_served_by_the_app():
    parts = _build()
    sources = re.findall(r'(?:src|href)="([^"]+)"', parts.header)
    assert sources
    assert all(s.startswith(("/static/vendor/", "/static/js/", "/static/cartes/")) for s in sources)
    # folium's own assets, the npm packages'; then our helpers and the skeleton written by folium
    for package in ("leaflet/", "leaflet.markercluster/", "leaflet.locatecontrol/", "leaflet.fullscreen/"):
        assert any(s.startswith(f"/static/vendor/{package}") for s in sources), package
    assert "/static/vendor/leaflet-realtime/leaflet-realtime.min.js" in sources
    assert re.fullmatch(r"/static/cartes/structures\.[0-9a-f]{16}\.js", sources[-1])
    assert "user-scalable" not in parts.header + parts.html


def test_the_only_outside_address_loaded_is_the_tile_template():
    parts = _build()
    html = parts.header + parts.html
    urls = set(re.findall(r"https?://[^\s\"'\\]+", html))
    # the tile template, and the copyright link inside the attribution (a link, not a request)
    assert urls == {
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https://www.openstreetmap.org/copyright",
    }


def test_plan_ign_and_a_local_tile_url_are_settings():
    assert "GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2" in _data(_build(TILES="plan_ign").html)["tiles"]["url"]
    local = "http://127.0.0.1:9/tuiles/{z}/{x}/{y}.png"
    assert _data(_build(TILE_URL=local).html)["tiles"]["url"] == local
    assert maps.tile_origin(local) == "http://127.0.0.1:9"


def test_names_cannot_break_out_of_the_script():
    html = _build().html
    assert "<img" not in html and html.lower().count("</script>") == 1 and html.lower().count("<script") == 1
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    assert _data(html)["pins"][0]["title"] == f"1. {HOSTILE}"


def test_pins_are_numbered_and_named_and_the_searched_place_is_given():
    data = _data(_build().html)
    assert [(p["id"], p["number"], p["type"]) for p in data["pins"]] == [
        ("a", 1, "cio"),
        ("b", 2, "mission_locale"),
    ]
    assert data["pins"][1]["title"] == "2. Mission locale du Livradois-Forez"
    assert data["place"] == {"latitude": 45.549, "longitude": 3.742, "name": "Ambert"}
    assert data["max_zoom_fit"] == 14


# ------------------------------------------------ data is never template (issue 9, point 1)

TEMPLATE_NAMES = [
    "Essai {{ 7*7 }} ici",
    "Q {{ lipsum.__globals__.os.getcwd() }}",
    "Accueil {% if true %}oui{% endif %} {# note #}",
    "Point ${7*7} et `${alert(1)}`",
    "L'\"accueil\" {{ '",
]


def test_template_syntax_in_names_reaches_the_map_as_typed_data():
    pins = [
        maps.Pin(str(i), nom, "cio", 45.55 + i / 1000, 3.74, i + 1) for i, nom in enumerate(TEMPLATE_NAMES)
    ]
    parts = maps.build(pins, _static, maps.tile_layer(config.load({})), place=(45.549, 3.742, "{{ 6*7 }}"))
    data = _data(parts.html)
    assert [p["title"] for p in data["pins"]] == [f"{i + 1}. {n}" for i, n in enumerate(TEMPLATE_NAMES)]
    assert data["place"]["name"] == "{{ 6*7 }}"
    assert "Essai 49 ici" not in parts.html


def test_the_map_has_no_inline_script_to_run():
    parts = _build()
    tags = re.findall(r"<script([^>]*)>", parts.header + parts.html)
    assert tags[-1] == ' type="application/json" data-carte-donnees="carte_leaflet"'
    assert all(re.fullmatch(r' src="/static/[^"]+\.js" defer', t) for t in tags[:-1]), tags


@pytest.fixture(scope="module")
def template_server(tmp_path_factory, built_store):
    """A real server on a store into which a CSV import brought text full of template syntax."""
    tmp = tmp_path_factory.mktemp("template")
    db = tmp / "locator.sqlite"
    shutil.copyfile(built_store, db)
    proof = tmp / "pwned"
    rows = [
        "type;nom;adresse;code_postal;commune;latitude;longitude;description",
        *(
            f"{kind};{_csv(name)};{_csv(address)};63600;Ambert;{45.5490 + i / 2000:.4f};3.7420;{_csv(note)}"
            for i, (kind, name, address, note) in enumerate(_template_rows(proof))
        ),
    ]
    csv = tmp / "gabarits.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, report, output = run_import(db, csv)
    assert code == 0 and report["importes"] == len(rows) - 1, output
    with serve_in_background(db) as base:
        yield base, db, proof


def _template_rows(proof: Path) -> list[tuple[str, str, str, str]]:
    """(type, name, address, description) of structures whose text a template engine would run."""
    run = f"{{{{ lipsum.__globals__.__builtins__.open('{proof}', 'w').write('x') }}}}"
    return [
        ("cio", "Essai {{ 7*7 }} ici", "{{ 6*7 }} rue du Gabarit", "Ouvert {% if true %}oui{% endif %}"),
        ("psad", f"Q {run}", "{# commentaire #} place Ruelle", "Texte ${7*7} et `${alert(1)}`"),
        ("mlds", "L'\"accueil\" {{ '", "1 rue {{", "{% raw %}brut"),
    ]


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_pages_that_map_template_syntax_show_it_as_typed_and_run_nothing(template_server):
    base, db, proof = template_server
    rows = _template_rows(proof)
    with sqlite3.connect(db) as c:
        ids = [c.execute("SELECT id FROM structures WHERE nom = ?", (r[1],)).fetchone()[0] for r in rows]
    pages = ["/communes/63003", "/recherche?q=Ambert", "/departements/63", *(f"/structures/{i}" for i in ids)]
    for page in pages:
        status, body = _get(base + page)
        assert status == 200, (page, body[-500:])
        assert "Essai 49 ici" not in body and "42 rue" not in body, page
        data = _data(body)
        shown = {p["title"].split(". ", 1)[-1] for p in data["pins"]}
        assert shown & {r[1] for r in rows}, page  # each page maps at least one of them
        assert shown & {r[1] for r in rows} <= {r[1] for r in rows}
    for sid, (_kind, name, address, note) in zip(ids, rows, strict=True):
        status, body = _get(f"{base}/structures/{sid}")
        assert unescape(body).count(name) >= 1 and address in unescape(body), sid
        assert note in unescape(body), sid
    assert not proof.exists(), "a structure's name ran code on the server"

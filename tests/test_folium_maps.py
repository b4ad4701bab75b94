"""Issue 18: every map is a data-free folium skeleton rendered offline; data is never code.

The skeletons are rendered at `make install` into content-hashed static files (the same bytes in every
process), a web worker never imports folium, and no template engine ever compiles a page's data: a canary
makes any such compilation raise, while every map kind is built and served with canary data.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from admin_helpers import ADMIN, csrf_token, login, make_app

from locator.admin import accounts
from locator.maps import KINDS, MANIFEST, STATIC, neutral_json
from locator.store import authdb
from locator.store import db as store_db
from locator.store import structures as store_structures

CARTES = STATIC / "cartes"
AMBERT_ML = "mission-locale-du-livradois-forez-63003"
CANARY = "Canari-5b7e"
# What a template engine or a script would run; each must reach the page as typed.
HOSTILE = [
    f"Essai {{{{7*7}}}} fin {CANARY}",
    f"Avant {{% if 1 %}}X{{% endif %}} après {CANARY}",
    f"Prix ${{alert(1)}} {CANARY}",
    f"<img src=x onerror=alert(1)> {CANARY}",
    f"Guillemet ` oblique {CANARY}",
]
# What each would become if it were run (in an HTML page, the raw tag would be one too).
RUN = ["Essai 49 fin", "Avant X après"]


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need four départements only: the small store (fast tier)."""
    return small_built_store


# ---------------------------------------------------------------- the skeletons


def test_the_skeletons_are_byte_identical_in_every_process_and_are_the_files_served(tmp_path):
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"cartes-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "locator.maps", "--output", str(out)], check=True, env=env)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    served = {p.name: p.read_bytes() for p in sorted(CARTES.iterdir()) if p.is_file()}
    assert served == outputs[0], "static/cartes is stale: run `make install`"
    manifest = json.loads(outputs[0][MANIFEST])
    for kind in KINDS:
        name = manifest[kind]["script"].rsplit("/", 1)[1]
        assert re.fullmatch(rf"{kind}\.[0-9a-f]{{16}}\.js", name)
        code = outputs[0][name].decode()
        # folium wrote the map: L.map on the element the page carries, and the plugins asked for
        assert f'var {KINDS[kind]} = L.map(\n"{KINDS[kind]}"' in re.sub(r"\n\s+", "\n", code)
        assert "L.realtime(" in code and "L.control.locate(" in code and "L.control.fullscreen(" in code
        assert '"start": false' in code  # the data layer waits for the page's data
        assert not re.search(r"[0-9a-f]{32}", code)  # no random folium id left


def test_no_skeleton_links_folium_stock_cdn_assets():
    manifest = json.loads((CARTES / MANIFEST).read_text())
    for kind in KINDS:
        files = manifest[kind]["js"] + manifest[kind]["css"]
        assert files and all(not f.startswith(("http:", "https:", "//")) for f in files), kind
        assert all((STATIC / f).is_file() for f in files), kind
    every = b"".join(p.read_bytes() for p in CARTES.iterdir())
    for host in (b"cdn.jsdelivr", b"cdnjs", b"code.jquery", b"bootstrapcdn", b"unpkg"):
        assert host not in every


def test_a_web_worker_serving_every_map_never_imports_folium(built_store):
    """The pages read the skeletons' manifest only: folium (0.6 s, +75 MB) stays out of the worker."""
    code = f"""
import sys, json
from locator import create_app
app = create_app({{"DB": {str(built_store)!r}, "TESTING": True, "SECRET_KEY": "x"}})
client = app.test_client()
paths = ["/", "/recherche?q=Ambert", "/communes/63003", "/departements/63", "/structures/{AMBERT_ML}",
         "/territoires", "/departements/63/carte.html"]
print(json.dumps({{"status": [client.get(p).status_code for p in paths],
                  "loaded": sorted(m for m in ("folium", "branca", "pandas", "numpy") if m in sys.modules)}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == [200] * 7
    assert result["loaded"] == []


def test_a_skeleton_script_is_served_as_static_javascript_cached_for_a_year(client):
    page = client.get("/recherche?q=Ambert").get_data(as_text=True)
    script = re.search(r'<script src="(/static/cartes/structures\.[0-9a-f]{16}\.js)" defer>', page).group(1)
    r = client.get(script)
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # the page itself carries no inline script: only script files, and its data block
    assert re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page) == [
        ' type="application/json" data-carte-donnees="carte_leaflet"'
    ]


def test_neutral_json_decodes_to_the_same_text_and_has_no_template_syntax():
    data = {"a": "{{7*7}} {% if 1 %}X{% endif %} {# c #} {{{ </script> & '", "b": [{"c": {}}]}
    text = neutral_json(data)
    assert json.loads(text) == data
    assert not re.search(r"\{[{%#]", text) and "<" not in text and "'" not in text


# ---------------------------------------------------------------- data is never code


def _hostile_rows(template: dict) -> list[dict]:
    """Structures near Ambert whose every mapped field holds one of the hostile strings."""
    old = "2015-01-02"  # stale: the quality map lists them too
    rows = []
    for i, name in enumerate(HOSTILE):
        rows.append(
            {
                **template,
                "id": f"hostile-{i}",
                "type": ["cio", "psad", "mlds", "e2c", "dispositif"][i],
                "nom": name,
                "adresse": f"{i} rue {name}",
                "complement_adresse": name,
                "courriel": f"{{{{7*7}}}}{i}@exemple.fr",
                "latitude": 45.5490 + i / 1000,
                "longitude": 3.7420,
                "date_maj": old,
                "description": name,
            }
        )
    return rows


@pytest.fixture(scope="module")
def hostile_store(small_built_store, tmp_path_factory) -> Path:
    """A store whose structures near Ambert, and Ambert's Mission locale, carry hostile names."""
    path = tmp_path_factory.mktemp("hostile") / "locator.sqlite"
    shutil.copyfile(small_built_store, path)
    db = store_db.writer(path)
    ambert = store_structures.get(db.conn, AMBERT_ML)
    rows = _hostile_rows(ambert)
    rows.append({**ambert, "nom": " ".join(HOSTILE)})
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with db.conn:
        store_structures.upsert(db, rows, now)
    db.conn.close()
    accounts.add_user(authdb.location(path), *ADMIN[:1], "admin", ADMIN[1])
    return path


@pytest.fixture
def hostile_client(hostile_store):
    app = make_app(hostile_store)
    return app.test_client()


@pytest.fixture
def no_template_of_data(monkeypatch):
    """Any template compiled from text that holds the canary raises (branca's Element, folium's
    Template, Jinja itself): data reaching a template engine as source fails the test."""
    import branca.element
    import jinja2

    caught: list[str] = []
    element_init = branca.element.Element.__init__

    def guarded_init(self, template=None, template_name=None):
        if template is not None and CANARY in template:
            caught.append(template)
            raise AssertionError(f"branca compiled data as a template: {template[:200]!r}")
        element_init(self, template=template, template_name=template_name)

    compile_ = jinja2.Environment.compile

    def guarded_compile(self, source, *args, **kwargs):
        if isinstance(source, str) and CANARY in source:
            caught.append(source)
            raise AssertionError(f"Jinja compiled data as a template: {source[:200]!r}")
        return compile_(self, source, *args, **kwargs)

    monkeypatch.setattr(branca.element.Element, "__init__", guarded_init)
    monkeypatch.setattr(jinja2.Environment, "compile", guarded_compile)
    return caught


def test_the_canary_fixture_catches_folium_compiling_data(no_template_of_data):
    import folium

    m = folium.Map(location=[45.5, 3.7], tiles=None)
    folium.Marker([45.5, 3.7], tooltip=f"Nom {CANARY}").add_to(m)
    with pytest.raises(AssertionError, match="compiled data"):
        m.get_root().render()
    m = folium.Map(location=[45.5, 3.7], tiles=None)
    folium.Marker([45.5, 3.7], popup=folium.Popup(f"Nom {CANARY}")).add_to(m)
    with pytest.raises(AssertionError, match="compiled data"):
        m.get_root().render()
    assert no_template_of_data


def _admin(client) -> None:
    r = login(client, *ADMIN)
    assert r.status_code == 302, r.get_data(as_text=True)[-500:]


def _import_preview(client) -> str:
    """Upload a spreadsheet of hostile rows; return the preview's path."""
    lines = ["type;nom;adresse;code_postal;commune;latitude;longitude"]
    for i, name in enumerate(HOSTILE):
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"cio;{quoted};{quoted};63600;Ambert;{45.55 + i / 500:.4f};3.7420")
    lines.append(f'cio;"Sans place {CANARY}";;;;;')  # rejected: its messages reach the map too
    data = {
        "csrf_token": csrf_token(client, "/admin/import"),
        "statut": "publie",
        "fichier": (io.BytesIO("\n".join(lines).encode()), f"fichier-{CANARY}.csv"),
    }
    r = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    return r.headers["Location"]


def _map_pages(client) -> dict[str, str]:
    """Every page with a map, and every JSON answer a map reads, with the hostile store's data."""
    _admin(client)
    preview = _import_preview(client)
    paths = [
        "/",
        "/recherche?q=Ambert",
        "/recherche?q=45.5490,3.7420",
        "/communes/63003",
        "/departements/63",
        *(f"/structures/hostile-{i}" for i in range(len(HOSTILE))),
        f"/structures/{AMBERT_ML}",
        "/territoires",
        "/api/v1/structures.geojson",
        "/api/v1/territoires.geojson",
        f"/api/v1/structures/{AMBERT_ML}/territoire.geojson",
        "/departements/63/carte.html",
        preview,
        preview + "/carte.json",
        preview + "/lignes/2",
        "/admin/structures/hostile-0",
        "/admin/qualite",
        "/admin/qualite/carte.json",
    ]
    pages = {}
    for path in paths:
        r = client.get(path)
        assert r.status_code == 200, (path, r.get_data(as_text=True)[-500:])
        pages[path] = r.get_data(as_text=True)
    return pages


def test_every_map_kind_is_built_and_served_with_canary_data_and_nothing_compiles_it(
    no_template_of_data, hostile_client, hostile_store, tmp_path
):
    from locator.maps import skeletons
    from locator.web import maps, standalone

    skeletons.build(output=tmp_path / "cartes")  # every kind, and the standalone skeleton
    pages = _map_pages(hostile_client)
    with store_db.connect(hostile_store) as conn:
        tiles = maps.tiles_data(maps.tile_layer(make_app(hostile_store).config))
        carte = standalone.page(conn, skeletons.standalone_skeleton(), tiles, "84", "63")
    # the canary went everywhere a map reads (so the data did flow), and nothing compiled it; the
    # région map reads it from the API (its page carries none)
    missing = [p for p, body in {**pages, "locator carte": carte}.items() if CANARY not in body]
    assert missing == ["/"]
    assert no_template_of_data == []


def _json_blocks(body: str) -> list[dict]:
    return [
        json.loads(html.unescape(b) if "&#" in b else b)
        for b in re.findall(
            r'<script type="application/json" data-carte-donnees="[a-z_]+">(.*?)</script>', body, re.S
        )
    ]


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_hostile_names_reach_every_map_as_typed_and_nothing_runs(hostile_client):
    pages = _map_pages(hostile_client)
    for path, body in pages.items():
        for ran in RUN:
            assert ran not in body, (path, ran)
        if path.endswith((".json", ".geojson")):
            strings = _strings(json.loads(body))
        else:
            assert "<img src=x" not in body, path
            strings = [s for block in _json_blocks(body) for s in _strings(block)]
            strings += [html.unescape(body)]  # the list, the cards: escaped HTML, shown as typed
        found = [name for name in HOSTILE if any(name in s for s in strings)]
        assert found or path == "/", path  # the région map reads the API
    # The pins' data: the names present as typed in the JSON, numbered for the list.
    titles = [p["title"] for p in _json_blocks(pages["/departements/63"])[0]["pins"]]
    for name in HOSTILE:
        assert any(t.endswith(". " + name) for t in titles), name
    # The territories the maps fetch, and the import preview's rows.
    names = {f["properties"]["nom"] for f in json.loads(pages["/api/v1/territoires.geojson"])["features"]}
    assert " ".join(HOSTILE) in names
    rows = next(json.loads(b) for p, b in pages.items() if p.endswith("/carte.json") and "import" in p)
    assert {f["properties"]["nom"] for f in rows["features"]} >= set(HOSTILE)


def test_the_standalone_map_carries_hostile_names_as_data_and_inlines_every_asset(
    hostile_client, hostile_store, tmp_path
):
    from locator.cli import main

    out = tmp_path / "carte.html"
    from click.testing import CliRunner

    result = CliRunner().invoke(
        main, ["carte", "--db", str(hostile_store), "--departement", "63", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    for ran in RUN:
        assert ran not in text
    # every script, stylesheet and image is inside the file: nothing to fetch but the tiles
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="(?!data:)', text)
    assert "cdn.jsdelivr" not in text and "cdnjs" not in text
    block = re.search(r'data-carte-donnees="carte_leaflet">(.*?)</script>', text, re.S).group(1)
    assert not re.search(r"\{[{%#]", block)  # Jinja-neutral
    data = json.loads(block)
    titles = [p["title"] for p in data["pins"]]
    for name in HOSTILE:
        assert any(t.endswith(". " + name) for t in titles), name
        assert html.unescape(text).count(name) >= 1  # the list, shown as typed
    assert data["contours"]["features"], "the département’s territories draw its outline offline"
    assert "Appeler le" in text and "La liste (" in text
    # The département page offers the same file (the skeleton rendered at make install).
    page = hostile_client.get("/departements/63").get_data(as_text=True)
    assert 'href="/departements/63/carte.html"' in page
    r = hostile_client.get("/departements/63/carte.html")
    assert r.status_code == 200 and r.headers["Content-Disposition"] == 'attachment; filename="carte-63.html"'
    assert r.get_data(as_text=True) == text


def test_the_standalone_map_of_a_departement_is_built_once_per_store_version(hostile_store, tmp_path):
    from admin_helpers import copy_store

    from locator.web import standalone

    store = tmp_path / "locator.sqlite"
    copy_store(hostile_store, store)
    hostile_client = make_app(store).test_client()
    first = hostile_client.get("/departements/63/carte.html?types=cio").get_data(as_text=True)
    kept = len(standalone._KEPT)
    assert hostile_client.get("/departements/63/carte.html?types=cio").get_data(as_text=True) == first
    assert len(standalone._KEPT) == kept
    db = store_db.writer(store)
    with db.conn:
        db.conn.execute("UPDATE structures SET nom = 'CIO renommé' WHERE id = 'hostile-0'")
    db.conn.close()
    again = hostile_client.get("/departements/63/carte.html?types=cio").get_data(as_text=True)
    assert "CIO renommé" in again and again != first


def test_a_bad_departement_or_type_for_the_map_to_take_away_is_a_french_404_or_400(hostile_client):
    r = hostile_client.get("/departements/99/carte.html")
    assert r.status_code == 404 and "Aucun département" in r.get_data(as_text=True)
    r = hostile_client.get("/departements/63/carte.html?types=inconnu")
    assert r.status_code == 400 and "Type de structure inconnu" in r.get_data(as_text=True)

"""Issue 18 in chromium: every page with a map (public and admin) runs no alert, breaks no CSP rule and
asks nothing of another host, with hostile names everywhere a map shows them; the controls speak French;
the map to take away opens from a file with the network cut, pins drawn and names shown as typed."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys

import pytest

from locator.admin import accounts
from locator.store import authdb
from locator.store import db as store_db
from locator.store import structures as store_structures
from locator.testing import serve_in_background
from tests.browser.conftest import AMBERT_ML, open_context

EMAIL, PASSWORD = "admin@example.fr", "un-mot-de-passe-admin-solide"
# Template syntax (Jinja, JS template literals), HTML, a backtick: each must show as typed.
HOSTILE = [
    "Essai {{7*7}} fin",
    "Avant {% if 1 %}X{% endif %} après",
    "Prix ${alert(1)} ici",
    "<img src=x onerror=alert(1)> balise",
    "Guillemet ` oblique",
]
CHABLAIS = "mission-locale-du-chablais-74281"


@pytest.fixture(scope="module")
def hostile(built_store, tmp_path_factory, tile_server):
    """A real server on a store whose structures near Ambert, and a Mission locale, carry hostile names."""
    path = tmp_path_factory.mktemp("hostile-browser") / "locator.sqlite"
    shutil.copyfile(built_store, path)
    db = store_db.writer(path)
    ambert = store_structures.get(db.conn, AMBERT_ML)
    chablais = store_structures.get(db.conn, CHABLAIS)
    rows = [
        {
            **ambert,
            "id": f"hostile-{i}",
            "type": ["cio", "psad", "mlds", "e2c", "dispositif"][i],
            "nom": name,
            "adresse": f"{i} rue {name}",
            "latitude": 45.5490 + i / 1000,
            "longitude": 3.7420,
            "date_maj": "2015-01-02",
        }
        for i, name in enumerate(HOSTILE)
    ]
    rows.append({**chablais, "nom": " ".join(HOSTILE)})
    with db.conn:
        store_structures.upsert(db, rows, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    db.conn.close()
    accounts.add_user(authdb.location(path), EMAIL, "admin", PASSWORD)
    with serve_in_background(path, env={"LOCATOR_TILE_URL": tile_server.url}) as base:
        yield base, path


PUBLIC_MAPS = [
    "/",
    "/recherche?q=Ambert",
    "/recherche?q=45.5490,3.7420",
    "/communes/63003",
    "/departements/63",
    "/structures/hostile-0",
    f"/structures/{AMBERT_ML}",
    f"/structures/{CHABLAIS}",
    "/territoires",
]


def _maps_ready(page) -> int:
    """Wait until every map of the page has drawn its data; return how many maps there are."""
    boxes = page.locator("[data-carte]")
    for i in range(boxes.count()):
        boxes.nth(i).locator("xpath=self::*[@data-pret]").wait_for(state="attached")
    return boxes.count()


def _upload(page, base, tmp_path) -> str:
    lines = ["type;nom;adresse;code_postal;commune;latitude;longitude"]
    for i, name in enumerate(HOSTILE):
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"cio;{quoted};{quoted};63600;Ambert;{45.55 + i / 500:.4f};3.7420")
    csv = tmp_path / "hostile.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.goto(base + "/admin/import")
    page.get_by_label(re.compile("Fichier CSV")).set_input_files(str(csv))
    page.get_by_role("button", name="Analyser le fichier").click()
    page.wait_for_url(re.compile(r".*/admin/import/[^/]+$"))
    return page.url


def test_no_map_page_runs_an_alert_breaks_the_csp_or_leaves_127_0_0_1(browser, hostile, tmp_path):
    base, _db = hostile
    context, watch = open_context(browser)
    page = context.new_page()
    seen = 0
    for path in PUBLIC_MAPS:
        page.goto(base + path)
        seen += _maps_ready(page)
    assert seen == len(PUBLIC_MAPS) + 2  # a Mission locale's page has its territory's map too
    # The hostile names are on the maps as typed: a pin's words, a territory's label.
    page.goto(base + "/departements/63")
    _maps_ready(page)
    titles = page.evaluate(
        "() => { const t = []; window.groupe_leaflet.eachLayer(m => t.push(m.options.title)); return t; }"
    )
    for name in HOSTILE:
        assert any(t.endswith(". " + name) for t in titles), name
    page.goto(base + "/territoires")
    _maps_ready(page)
    label = page.locator(f'#carte-territoires path[aria-label="{" ".join(HOSTILE)}"]')
    label.hover()
    assert page.locator(".territoire-etiquette").all_inner_texts() == [" ".join(HOSTILE)]
    # The admin's maps: import preview, a row's pin, a structure's pin, the quality map.
    page.goto(base + "/admin/login")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/admin/")
    preview = _upload(page, base, tmp_path)
    assert _maps_ready(page) == 1
    pin = page.locator('.leaflet-marker-icon[data-ligne="2"]')
    pin.click()
    assert HOSTILE[0] in page.locator(".leaflet-popup-content").inner_text()
    for path in (preview + "/lignes/2", "/admin/structures/hostile-3", "/admin/qualite"):
        page.goto(path if path.startswith("http") else base + path)
        assert _maps_ready(page) == 1, path
    page.locator('#legende-qualite input[value="anciennes"]').check()
    assert page.locator("#carte-qualite .repere-anciennes, #carte-qualite .marker-cluster").count() > 0
    assert page.locator("img[src='x']").count() == 0
    assert watch.dialogs == [] and watch.csp == [] and watch.outside == [] and watch.errors == []
    context.close()


def test_map_controls_speak_french(site, desktop):
    page, watch = desktop
    page.goto(site + "/recherche?q=Ambert")
    page.wait_for_selector("[data-carte][data-pret]", state="attached")
    carte = page.locator(".carte-leaflet")
    assert carte.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoomer"
    assert carte.locator(".leaflet-control-zoom-out").get_attribute("title") == "Dézoomer"
    assert carte.get_by_role("button", name="Montrer ma position sur la carte").count() == 1
    assert carte.get_by_role("button", name="Plein écran").count() == 1
    assert watch.errors == []


def test_the_map_to_take_away_opens_from_a_file_with_no_network(browser, hostile, tmp_path):
    _base, db = hostile
    out = tmp_path / "carte.html"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locator.cli",
            "carte",
            "--db",
            str(db),
            "--departement",
            "63",
            "--output",
            str(out),
        ],
        check=True,
    )
    context, watch = open_context(browser, offline=True)
    page = context.new_page()
    page.goto(out.as_uri())
    page.wait_for_selector("#carte_leaflet[data-pret]", state="attached")
    # Pins are drawn; the département's territories give the outline; the list is beside the map.
    assert page.locator("#carte_leaflet .leaflet-marker-icon").count() > 0
    assert page.locator("#carte_leaflet path.leaflet-interactive").count() > 0
    listed = page.locator(".autonome-liste").inner_text()
    for name in HOSTILE:
        assert name in listed
    # A pin's popup shows its name as typed, and the card's call button.
    opened = """(name) => {
        let found = null;
        [window.reponse_leaflet, window.groupe_leaflet].forEach(g => g.eachLayer(m => {
            if (m.options.title && m.options.title.endsWith('. ' + name)) { found = m; } }));
        window.carte_leaflet.setView(found.getLatLng(), 18, {animate: false});
        if (!found._map) { return false; }
        found.openPopup();
        return true;
    }"""
    page.wait_for_function(opened, arg=HOSTILE[3])
    popup = page.locator(".leaflet-popup-content")
    assert HOSTILE[3] in popup.inner_text()
    assert page.locator("img[src='x']").count() == 0
    # Only the tiles were asked of the network (and refused): everything else is inside the file.
    assert watch.outside and all(
        re.match(r"https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png$", u) for u in watch.outside
    )
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    assert watch.dialogs == [] and watch.errors == []
    context.close()


def test_the_watch_reports_a_csp_violation_and_an_alert(site, desktop):
    page, watch = desktop
    page.goto(site + "/recherche?q=Ambert")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("window.ran") is None
    page.evaluate("() => alert('essai')")
    assert watch.dialogs == ["essai"]
    for _ in range(100):  # the violation reaches the test through the page's binding: wait for it
        if watch.csp:
            break
        page.evaluate("() => new Promise(done => setTimeout(done, 20))")
    assert any("script-src" in v for v in watch.csp), watch.csp

"""The data-quality dashboard: each check on real data, the map, and formula-safe CSV exports."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import date

import pytest
from import_helpers import DATA, run_import
from test_admin_structures import press

from locator.admin import quality
from locator.publish import spreadsheet
from locator.store.db import connect


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need two départements only: the small store (fast tier)."""
    return small_built_store


AMBERT_ML = "mission-locale-du-livradois-forez-63003"
THIERS_ML = "mission-locale-du-bassin-de-thiers-63430"
HAUTE_LOIRE_MLS = (
    "mission-locale-du-bassin-d-emploi-de-brioude-43040",
    "mission-locale-du-velay-43157",
    "mission-locale-de-la-jeune-loire-et-ses-rivieres-43268",
)


def _exec(db, sql, *args):
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(sql, args)
    conn.close()


def _copy(db, source_id, new_id, **changes):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM structures WHERE id = ?", (source_id,)).fetchone())
    row.pop("pk")
    row.update(id=new_id, **changes)
    with conn:
        conn.execute(
            f"INSERT INTO structures ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    conn.close()


def _run(db, check):
    conn = connect(db)
    try:
        return quality.run_one(conn, check, "84", date(2026, 11, 27))
    finally:
        conn.close()


def test_duplicates_are_alike_names_close_together(store_copy):
    assert _run(store_copy, "doublons") == []
    _copy(
        store_copy,
        AMBERT_ML,
        "ml-livradois-bis-63003",
        nom="Mission Locale Livradois Forez",
        latitude=45.5510,
    )
    [pair] = _run(store_copy, "doublons")
    assert {pair["id"], pair["autre_id"]} == {AMBERT_ML, "ml-livradois-bis-63003"}
    assert "noms semblables" in pair["probleme"] and "même adresse" in pair["probleme"]
    assert pair["distance_km"] == pytest.approx(0.05, abs=0.01)


def test_alike_names_far_apart_are_not_duplicates(store_copy):
    _copy(
        store_copy,
        AMBERT_ML,
        "ml-livradois-ailleurs-63003",
        nom="Mission locale du Livradois Forez",
        adresse="1 place de l’Église",
        latitude=45.60,
        longitude=3.80,
    )
    assert _run(store_copy, "doublons") == []


def test_stale_is_older_than_twelve_months_or_undated(store_copy):
    _exec(store_copy, "UPDATE structures SET date_maj = '2026-01-15' WHERE id = ?", AMBERT_ML)
    _exec(store_copy, "UPDATE structures SET date_maj = '2025-10-30' WHERE id = ?", THIERS_ML)
    stale = {s["id"]: s["probleme"] for s in _run(store_copy, "anciennes")}
    assert AMBERT_ML not in stale
    assert "2025-10-30" in stale[THIERS_ML]
    assert quality.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)


def test_positions_missing_coarse_or_outside_their_commune(store_copy):
    _exec(store_copy, "UPDATE structures SET latitude = NULL, longitude = NULL WHERE id = ?", AMBERT_ML)
    # Thiers' Mission locale pinned on Clermont-Ferrand: 35 km away from its commune.
    _exec(store_copy, "UPDATE structures SET latitude = 45.7772, longitude = 3.0870 WHERE id = ?", THIERS_ML)
    found = {s["id"]: s["probleme"] for s in _run(store_copy, "positions")}
    assert "Pas de position" in found[AMBERT_ML]
    assert "km de la commune indiquée (Thiers)" in found[THIERS_ML]
    assert any("centre de la commune" in p for p in found.values())


def test_antennes_without_a_live_parent(store_copy):
    lyon_ml = "mission-locale-de-lyon-69387"
    orphans = {s["id"]: s["probleme"] for s in _run(store_copy, "antennes")}
    assert orphans and all("Aucune Mission locale" in p for p in orphans.values())
    conn = sqlite3.connect(store_copy)
    child = conn.execute(
        "SELECT id FROM structures WHERE parent_id = ? AND type = 'antenne_mission_locale'", (lyon_ml,)
    ).fetchone()
    conn.close()
    assert child is not None and child[0] not in orphans
    _exec(store_copy, "UPDATE structures SET statut = 'archive' WHERE id = ?", lyon_ml)
    found = {s["id"]: s["probleme"] for s in _run(store_copy, "antennes")}
    assert "n’existe plus" in found[child[0]]


def test_communes_in_no_official_list_are_listed_apart(store_copy):
    before = {c["code"] for c in _run(store_copy, "sans_liste")}
    assert {"63003", "63430", "43157", "69383"} & before == {"63003", "63430", "43157"}  # Lyon 3e is an ARM
    assert all(
        code[:2] in ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74")
        for code in before
    )
    _exec(store_copy, "INSERT INTO couverture (code_insee, structure_id) VALUES ('63003', ?)", AMBERT_ML)
    after = {c["code"] for c in _run(store_copy, "sans_liste")}
    assert before - after == {"63003"}


def test_communes_without_an_answer_stand_out_on_the_page_the_map_and_the_csv(admin_client, admin_store):
    assert _run(admin_store, "communes") == []  # every commune of the région has its Mission locale
    for ml in HAUTE_LOIRE_MLS:  # the Haute-Loire loses its three Missions locales
        assert press(admin_client, f"/admin/structures/{ml}", "archiver").status_code == 302
    rows = _run(admin_store, "communes")
    assert len(rows) == 257 and {r["departement"] for r in rows} == {"43"}
    assert "Aucune Mission locale publiée n’a son siège dans ce département" in rows[0]["probleme"]
    page = admin_client.get("/admin/qualite").get_data(as_text=True)
    assert "Communes sans Mission locale compétente : 257" in page
    puy = '<a href="/communes/43157">Le Puy-en-Velay</a> <span class="admin-aide">(code INSEE 43157)</span>'
    assert puy in page
    features = admin_client.get("/admin/qualite/carte.json").get_json()["features"]
    assert sum(1 for f in features if f["properties"]["controle"] == "communes") == 257
    csv_rows = _csv(admin_client, "communes")
    assert csv_rows[0] == list(quality.COLUMNS["communes"]) and len(csv_rows) == 258
    puy = csv_rows[1 + [r[0] for r in csv_rows[1:]].index("43157")][:3]
    assert puy == ["43157", "Le Puy-en-Velay", "43"]


def test_communes_named_by_several_lists_stand_out_on_the_page_the_map_and_the_csv(admin_client, admin_store):
    assert _run(admin_store, "plusieurs") == []
    code, report, out = run_import(admin_store, DATA / "couverture_ml_extrait.csv")
    assert code == 0, out
    [augerolles] = _run(admin_store, "plusieurs")  # listed by the Livradois-Forez and Thiers lists
    assert augerolles["code"] == "63016" and augerolles["listes"] == 2
    assert augerolles["missions_locales"] == (
        "Mission locale du bassin de Thiers ; Mission locale du Livradois-Forez"
    )
    page = admin_client.get("/admin/qualite").get_data(as_text=True)
    assert "Communes couvertes par plusieurs Missions locales : 1" in page
    assert "Nommée par les listes de 2 Missions locales" in page
    features = admin_client.get("/admin/qualite/carte.json").get_json()["features"]
    assert [f["properties"]["id"] for f in features if f["properties"]["controle"] == "plusieurs"] == [
        "63016"
    ]
    csv_rows = _csv(admin_client, "plusieurs")
    assert csv_rows[1][:2] == ["63016", "Augerolles"] and "bassin de Thiers" in csv_rows[1][4]


def _csv(client, check):
    r = client.get(f"/admin/qualite/{check}.csv")
    assert r.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig")), delimiter=";"))


def test_dashboard_lists_maps_and_exports(admin_client, admin_store):
    _copy(
        admin_store, AMBERT_ML, "doublon-63003", nom='=HYPERLINK("http://x")Mission locale du Livradois-Forez'
    )
    page = admin_client.get("/admin/qualite").get_data(as_text=True)
    for label in quality.CHECKS.values():
        assert label in page
    assert 'id="carte-qualite"' in page and "qualite.js" in page
    features = admin_client.get("/admin/qualite/carte.json").get_json()["features"]
    kinds = {f["properties"]["controle"] for f in features}
    assert {"positions", "anciennes", "antennes", "sans_liste"} <= kinds
    r = admin_client.get("/admin/qualite/anciennes.csv")
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    raw = r.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(quality.COLUMNS["anciennes"])
    names = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")Mission locale du Livradois-Forez' in names
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
    assert admin_client.get("/admin/qualite/inconnu.csv").status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 4 73 00 00 00", "'+33 4 73 00 00 00"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Ambert", "Ambert"),
        (None, ""),
        (-1.5, "-1,5"),  # the directory export's spelling: one writer for every CSV
        (45, "45"),
    ],
)
def test_csv_cells_that_look_like_formulas_are_neutralised(value, expected):
    assert spreadsheet.safe_cell(value) == expected


def test_quality_csv_defuses_hidden_formulas_and_writes_decimal_commas(admin_client, admin_store):
    hostile = ['\uff1dHYPERLINK("http://x")', '\n=HYPERLINK("http://x")', "  @SUM(A1)", "\r+1"]
    for i, nom in enumerate(hostile):
        _copy(admin_store, AMBERT_ML, f"piege-{i}", nom=nom, precision_geocodage="commune")
    raw = admin_client.get("/admin/qualite/positions.csv").get_data()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    by_id = {r[0]: r for r in rows[1:]}
    assert [by_id[f"piege-{i}"][header.index("nom")] for i in range(len(hostile))] == [
        "'" + n for n in hostile
    ]
    latitude = by_id["piege-0"][header.index("latitude")]
    assert latitude.startswith("45,") and "." not in latitude

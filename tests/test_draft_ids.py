"""Drafts stay in the admin area: no public answer, page or export names a structure not published."""

from __future__ import annotations

import sqlite3

import pytest
from admin_helpers import make_app
from click.testing import CliRunner

from locator.cli import main


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need the Rhône only: the small store (fast tier)."""
    return small_built_store


LYON_ML = "mission-locale-de-lyon-69387"
SECRET = {"brouillon": "mission-locale-en-preparation-69387", "archive": "mission-locale-fermee-69387"}
SECRET_NAMES = {"brouillon": "Mission locale en préparation", "archive": "Mission locale fermée"}


@pytest.fixture
def hidden_parents(store_copy):
    """Two published antennes of Lyon's Mission locale moved under a draft and an archived one."""
    conn = sqlite3.connect(store_copy)
    conn.row_factory = sqlite3.Row
    with conn:
        antennes = [
            dict(r)
            for r in conn.execute(
                "SELECT id, nom, code_insee, commune, latitude, longitude FROM structures "
                "WHERE parent_id = ? AND statut = 'publie' ORDER BY id LIMIT 2",
                (LYON_ML,),
            )
        ]
        assert len(antennes) == 2
        ml = dict(conn.execute("SELECT * FROM structures WHERE id = ?", (LYON_ML,)).fetchone())
        for (statut, sid), antenne in zip(SECRET.items(), antennes, strict=True):
            row = {k: v for k, v in ml.items() if k not in ("pk", "version")}
            row.update(id=sid, nom=SECRET_NAMES[statut], statut=statut)
            conn.execute(
                f"INSERT INTO structures ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
            conn.execute("UPDATE structures SET parent_id = ? WHERE id = ?", (sid, antenne["id"]))
    conn.close()
    return store_copy, antennes


def _secrets_in(body: str) -> list[str]:
    return [s for s in (*SECRET.values(), *SECRET_NAMES.values()) if s in body]


def test_no_public_answer_or_page_names_a_parent_that_is_not_published(hidden_parents):
    store, antennes = hidden_parents
    client = make_app(store).test_client()
    first = antennes[0]
    urls = [
        "/api/v1/structures.geojson",
        "/api/v1/structures?departement=69&limit=100",
        f"/api/v1/structures?commune={first['code_insee']}&limit=100",
        f"/api/v1/structures?lat={first['latitude']}&lon={first['longitude']}&limit=100",
        f"/api/v1/structures?q={first['commune']}&limit=100",
        f"/api/v1/communes/{first['code_insee']}/mission-locale",
        f"/api/v1/lieux?q={first['nom']}",
        f"/communes/{first['code_insee']}",
        "/departements/69",
        f"/recherche?q={first['commune']}",
        f"/structures/{LYON_ML}",
        f"/api/v1/structures/{LYON_ML}",
    ]
    for antenne in antennes:
        urls += [f"/api/v1/structures/{antenne['id']}", f"/structures/{antenne['id']}"]
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert _secrets_in(r.get_data(as_text=True)) == [], url
    for antenne in antennes:
        assert client.get(f"/api/v1/structures/{antenne['id']}").get_json()["parent_id"] is None
    geo = client.get("/api/v1/structures.geojson").get_json()["features"]
    assert {f["id"]: f["properties"]["parent_id"] for f in geo}[antennes[0]["id"]] is None
    # A published parent is still shown: the API says whose antenne a reception point is.
    others = client.get(f"/api/v1/structures/{LYON_ML}").get_json()["points_accueil"]
    assert others and {p["parent_id"] for p in others} == {LYON_ML}


@pytest.mark.parametrize("fmt", ["csv", "geojson", "data-inclusion"])
def test_public_exports_never_name_a_parent_that_is_not_published(hidden_parents, fmt):
    store, antennes = hidden_parents
    result = CliRunner().invoke(main, ["export", "--db", str(store), "--format", fmt])
    assert result.exit_code == 0, result.output
    body = result.stdout_bytes.decode("utf-8-sig")
    assert all(a["id"] in body for a in antennes) and _secrets_in(body) == []
    everything = CliRunner().invoke(main, ["export", "--db", str(store), "--format", fmt, "--tous"])
    if fmt != "data-inclusion":  # the admin's full export keeps the links as stored
        assert SECRET["brouillon"] in everything.stdout_bytes.decode("utf-8-sig")

"""The API v1 contract over a real gunicorn server (DESIGN.md "Interfaces")."""

from __future__ import annotations

import pytest
import requests

from locator.store.schema import STRUCTURE_FIELDS


def get(base, path, **params):
    return requests.get(base + path, params=params, timeout=60)


def test_healthz_answers_200(live_server):
    r = get(live_server, "/healthz")
    assert r.status_code == 200
    assert r.json() == {"statut": "ok"}


def test_missions_locales_near_ambert_by_distance(live_server):
    r = get(live_server, "/api/v1/structures", commune="63003", types="mission_locale", limit=3)
    assert r.status_code == 200
    results = r.json()["results"]
    assert [s["type"] for s in results] == ["mission_locale"] * 3
    assert results[0]["nom"] == "Mission locale du Livradois-Forez"
    distances = [s["distance_km"] for s in results]
    assert distances == sorted(distances)
    assert set(STRUCTURE_FIELDS) <= set(results[0])


def test_answers_carry_attribution_and_licence(live_server):
    for path, params in [
        ("/api/v1/structures", {"commune": "63430"}),
        ("/api/v1/communes", {"q": "Thiers"}),
        ("/api/v1/communes/63430", {}),
        ("/api/v1/structures.geojson", {}),
    ]:
        body = get(live_server, path, **params).json()
        assert "INSEE" in body["attribution"] or "DILA" in body["attribution"]
        assert "Licence" in body["licence"]


def test_commune_search_returns_contract_fields(live_server):
    r = get(live_server, "/api/v1/communes", q="le puy en velay", limit=2)
    first = r.json()["results"][0]
    assert first["code"] == "43157"
    assert first["nom"] == "Le Puy-en-Velay"
    assert first["departement"] == "43"
    assert "43000" in first["codes_postaux"]
    assert first["population"] > 15000
    assert 45.0 < first["latitude"] < 45.1 and 3.8 < first["longitude"] < 3.9


def test_one_commune_and_unknown_code(live_server):
    assert get(live_server, "/api/v1/communes/69383").json()["nom"] == "Lyon 3e Arrondissement"
    r = get(live_server, "/api/v1/communes/99999")
    assert r.status_code == 404
    assert "99999" in r.json()["erreur"]


def test_former_commune_code_answers_with_current_commune(live_server):
    body = get(live_server, "/api/v1/communes/74011").json()
    assert body["code"] == "74010"
    assert "Annecy-le-Vieux" in body["ancienne"]["note"]


def test_mission_locale_answer_says_method_and_reason(live_server):
    # Issue 17: the default store answers from the network's official list, and says so with its date
    # (issue 11's probable territory, for a store without the list: tests/test_territories.py).
    body = get(live_server, "/api/v1/communes/63003/mission-locale").json()
    assert body["methode"] == "couverture"
    assert body["raison"] == (
        "Ambert figure dans la liste des communes couvertes par la Mission locale du Livradois-Forez : "
        "la liste officielle, publiée par le réseau des Missions locales en janvier 2026."
    )
    assert "pas encore importée" not in body["raison"]
    assert body["liste"]["officielle"] is True and body["liste"]["date"] == "2026-01-01"
    assert body["mission_locale_hors_region"] is False
    assert body["mission_locale"]["type"] == "mission_locale"
    assert body["point_accueil"]["structure"]["id"]


@pytest.mark.parametrize(
    ("code", "where"),
    [
        ("13055", "Bouches-du-Rhône, Provence-Alpes-Côte d'Azur"),
        ("21231", "Côte-d'Or, Bourgogne-Franche-Comté"),
        ("75056", "Paris, Île-de-France"),
        ("2A004", "Corse-du-Sud, Corse"),
        ("75103", "Paris, Île-de-France"),
    ],
)
def test_communes_outside_the_region_get_no_mission_locale(live_server, code, where):
    body = get(live_server, f"/api/v1/communes/{code}/mission-locale").json()
    assert body["methode"] == "hors_region"
    assert body["mission_locale"] is None and body["missions_locales"] == [] and body["point_accueil"] is None
    assert f"({where}) est hors de la région Auvergne-Rhône-Alpes" in body["raison"]
    assert body["annuaire_national"].startswith("https://")


def test_far_types_are_said_far_with_the_nearest_known(live_server):
    # The région's only PSAD is far from Annecy: "aucune PSAD connue à moins de 60 km".
    body = get(live_server, "/api/v1/communes/74010/mission-locale").json()
    psad = next(a for a in body["autres"] if a["type"] == "psad")
    assert psad["loin_km"] == 60 and psad["distance_km"] > 60
    assert psad["raison"].startswith("Aucune PSAD connue à moins de 60 km ; la plus proche connue est à ")
    cio = next(a for a in body["autres"] if a["type"] == "cio")
    assert cio["loin_km"] is None and cio["distance_km"] < 40


def test_structures_by_point_departement_and_text(live_server):
    by_point = get(live_server, "/api/v1/structures", lat="45.7772", lon="3.0870", types="cio", limit=5)
    assert by_point.status_code == 200
    assert all(s["type"] == "cio" for s in by_point.json()["results"])
    by_dep = get(live_server, "/api/v1/structures", departement="63", types="mission_locale").json()
    assert len(by_dep["results"]) == 6
    assert all(s["departement"] == "63" for s in by_dep["results"])
    by_text = get(live_server, "/api/v1/structures", q="Thiers", types="mission_locale", limit=1).json()
    assert by_text["results"][0]["nom"] == "Mission locale du bassin de Thiers"


def test_radius_keeps_only_close_structures(live_server):
    body = get(live_server, "/api/v1/structures", commune="63003", rayon_km="5", limit=100).json()
    assert body["results"]
    assert all(s["distance_km"] <= 5 for s in body["results"])


def test_geojson_without_filter_lists_every_published_structure(live_server):
    r = get(live_server, "/api/v1/structures.geojson")
    assert r.headers["Content-Type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) >= 190
    f = body["features"][0]
    lon, lat = f["geometry"]["coordinates"]
    assert f["properties"]["latitude"] == lat and f["properties"]["longitude"] == lon


def test_one_structure_and_unknown_id(live_server):
    first = get(live_server, "/api/v1/structures", commune="63430", types="mission_locale", limit=1).json()
    sid = first["results"][0]["id"]
    body = get(live_server, f"/api/v1/structures/{sid}").json()
    assert body["id"] == sid
    r = get(live_server, "/api/v1/structures/nope-00000")
    assert r.status_code == 404 and "erreur" in r.json()


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "abc", "lon": "3"},
        {"lat": "91", "lon": "3"},
        {"lat": "45", "lon": "181"},
        {"lat": "nan", "lon": "3"},
        {"lat": "45"},
        {"lon": "3"},
        {"commune": "63003", "limit": "0"},
        {"commune": "63003", "limit": "101"},
        {"commune": "63003", "limit": "ten"},
        {"commune": "63003", "types": "boulangerie"},
        {"commune": "63003", "rayon_km": "-1"},
        {"q": ""},
        {"q": "   "},
        {"commune": "abc"},
        {"departement": "999"},
        {"commune": "63003", "lat": "45", "lon": "3"},
        {},
    ],
)
def test_bad_parameters_get_a_json_400(live_server, params):
    r = get(live_server, "/api/v1/structures", **params)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["erreur"]


def test_unknown_departement_is_404(live_server):
    r = get(live_server, "/api/v1/structures", departement="96")
    assert r.status_code in (400, 404)
    assert r.json()["erreur"]


def test_unknown_api_path_and_method_are_json(live_server):
    r = get(live_server, "/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["erreur"]
    r = requests.post(live_server + "/api/v1/structures", timeout=60)
    assert r.status_code == 405 and r.json()["erreur"]


def test_hostile_text_never_gives_a_500(live_server):
    for q in ["' OR 1=1 --", "<script>alert(1)</script>", "%00", "é" * 150, "lat,lon", "0,0", "\u202e"]:
        r = get(live_server, "/api/v1/communes", q=q)
        assert r.status_code in (200, 400), (q, r.status_code)
        r = get(live_server, "/api/v1/structures", q=q)
        assert r.status_code in (200, 400, 404), (q, r.status_code)

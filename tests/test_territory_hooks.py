"""Stored answers follow every change of Missions locales, antennes or coverage: import, undo, admin edit."""

from __future__ import annotations

import sqlite3

import pytest
from admin_helpers import post_form, text
from import_helpers import DATA, run_import, write
from test_admin_structures import press


@pytest.fixture(scope="module")
def built_store(inferred_store):
    """Stored answers moving with the inference: the national store built with COUVERTURE=''."""
    return inferred_store


VARENNES = "03298"  # Varennes-sur-Allier: Moulins's antenne at Saint-Pourçain is 8.8 km away, Vichy 21.1 km
CHANTELLE = "03053"  # Saint-Pourçain (Moulins) 13.0 km, Vichy 24.8 km
# Varennes-sur-Allier: in Entr'Allier Besbre et Loire, where only Moulins receives (antenne at Dompierre).
VARENNES = "03298"
# Chantelle: in Saint-Pourçain Sioule Limagne, where only Moulins receives (antenne at Saint-Pourçain);
# without it, none receives there and most of its communes are nearest to Vichy.
CHANTELLE = "03053"
# Heyrieux: in Collines Isère Nord Communauté, where no Mission locale receives (a vote: Nord-Isère).
HEYRIEUX = "38189"
AMBERT = "63003"
MOULINS = "mission-locale-de-moulins-et-sa-region-03190"
VICHY = "mission-locale-de-vichy-et-sa-region-03310"
LIVRADOIS = "mission-locale-du-livradois-forez-63003"
NORD_ISERE = "mission-locale-nord-isere-38053"
VIENNE = "mission-locale-de-l-isere-rhodanienne-38544"
SAINT_POURCAIN = "/admin/structures/antenne-mission-locale-de-saint-pourcain-sur-sioule-03254"
ANTENNE_VARENNES = (
    "type;nom;code_insee;parent\n"
    "antenne_mission_locale;Mission locale de Vichy - permanence de Varennes-sur-Allier;03298;"
    "Mission locale de Vichy et sa région\n"
)


def answer(db, code: str) -> tuple:
    with sqlite3.connect(db) as c:
        sql = "SELECT structure_id, methode, site_id FROM competences WHERE code_insee = ?"
        return c.execute(sql, (code,)).fetchone()


def answers_in_epci_of(db, code: str) -> dict[str, str]:
    with sqlite3.connect(db) as c:
        return dict(
            c.execute(
                "SELECT t.code_insee, t.structure_id FROM competences t "
                "JOIN communes c ON c.code = t.code_insee "
                "WHERE c.epci = (SELECT epci FROM communes WHERE code = ?) AND c.departement = '38'",
                (code,),
            )
        )


def territory_size(db, structure_id: str) -> int:
    with sqlite3.connect(db) as c:
        return c.execute(
            "SELECT communes FROM territoires WHERE structure_id = ?", (structure_id,)
        ).fetchone()[0]


def undo(client, import_id: int):
    page = f"/admin/imports/{import_id}"
    r = post_form(client, page + "/annuler", {"confirmer": "oui"}, page=page)
    assert r.status_code == 302
    assert "annulé" in text(client.get(page)), text(client.get(page))[-1500:]


def test_an_imported_antenne_moves_the_commune_and_undoing_the_import_moves_it_back(
    admin_client, admin_store, tmp_path
):
    assert answer(admin_store, VARENNES)[:2] == (MOULINS, "territoire_probable")
    vichy_before = territory_size(admin_store, VICHY)
    code, report, out = run_import(admin_store, write(tmp_path, ANTENNE_VARENNES))
    assert code == 0 and report["crees"] == 1, out
    ml, methode, site = answer(admin_store, VARENNES)
    assert (ml, methode) == (VICHY, "territoire_probable") and site.startswith("antenne-")
    assert territory_size(admin_store, VICHY) > vichy_before
    undo(admin_client, report["import_id"])
    assert answer(admin_store, VARENNES)[:2] == (MOULINS, "territoire_probable")
    assert territory_size(admin_store, VICHY) == vichy_before


def test_archiving_an_antenne_in_the_admin_moves_its_communes_and_restoring_brings_them_back(
    admin_client, admin_store
):
    assert answer(admin_store, CHANTELLE)[:2] == (MOULINS, "territoire_probable")
    assert press(admin_client, SAINT_POURCAIN, "archiver").status_code == 302
    assert answer(admin_store, CHANTELLE) == (VICHY, "territoire_probable", VICHY)
    assert press(admin_client, SAINT_POURCAIN, "restaurer").status_code == 302
    assert answer(admin_store, CHANTELLE)[:2] == (MOULINS, "territoire_probable")


def test_a_coverage_import_switches_its_communes_to_couverture_and_its_undo_back(admin_client, admin_store):
    assert answer(admin_store, AMBERT)[:2] == (LIVRADOIS, "territoire_probable")
    code, report, out = run_import(admin_store, DATA / "couverture_ml_extrait.csv")
    assert code == 0, out
    assert answer(admin_store, AMBERT) == (LIVRADOIS, "couverture", None)
    with sqlite3.connect(admin_store) as c:
        assert c.execute("SELECT COUNT(*) FROM competences WHERE methode = 'couverture'").fetchone()[0] == 149
    undo(admin_client, report["import_id"])
    assert answer(admin_store, AMBERT)[:2] == (LIVRADOIS, "territoire_probable")
    with sqlite3.connect(admin_store) as c:
        assert c.execute("SELECT COUNT(*) FROM competences WHERE methode = 'couverture'").fetchone()[0] == 0


def test_an_antenne_opened_in_an_intercommunality_where_none_received_takes_all_its_communes(
    admin_client, admin_store, tmp_path
):
    before = answers_in_epci_of(admin_store, HEYRIEUX)
    assert len(before) == 10 and set(before.values()) == {NORD_ISERE}
    antenne = (
        "type;nom;code_insee;parent\n"
        "antenne_mission_locale;Mission locale de l’Isère rhodanienne - permanence d’Heyrieux;38189;"
        "Mission locale de l’Isère rhodanienne\n"
    )
    code, report, out = run_import(admin_store, write(tmp_path, antenne))
    assert code == 0 and report["crees"] == 1, out
    # Even Bonnefamille, 2.6 km from a Nord-Isère site, follows its intercommunality.
    assert set(answers_in_epci_of(admin_store, HEYRIEUX).values()) == {VIENNE}
    undo(admin_client, report["import_id"])
    assert answers_in_epci_of(admin_store, HEYRIEUX) == before

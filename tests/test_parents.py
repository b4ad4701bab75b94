"""Who may belong to whom: antennes to Missions locales only, no loop of parents, coverage only on a
published Mission locale — in the admin form and in imports alike."""

from __future__ import annotations

import sqlite3

import pytest
from admin_helpers import text
from import_helpers import run_import, structure, warnings, write
from test_admin_structures import form_of, save, stored

from locator.ingest.importer import plan_import
from locator.store.db import connect


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need the Puy-de-Dôme only: the small store (fast tier)."""
    return small_built_store


AMBERT_ML = "mission-locale-du-livradois-forez-63003"
THIERS_ML = "mission-locale-du-bassin-de-thiers-63430"
VAL_D_ALLIER_ML = "mission-locale-du-val-d-allier-63178"
VIC_ANTENNE = "antenne-mission-locale-de-vic-le-comte-63457"
CIOS = ("cio-de-clermont-ferrand-63113", "cio-d-issoire-63178", "cio-de-riom-63300")
THIERS_CIO = "cio-de-thiers-63430"


def edit(sid: str) -> str:
    return f"/admin/structures/{sid}"


def parent_loops(db) -> list[str]:
    """Ids of the structures whose chain of parents comes back to them."""
    conn = sqlite3.connect(db)
    try:
        parent = dict(conn.execute("SELECT id, parent_id FROM structures WHERE parent_id IS NOT NULL"))
    finally:
        conn.close()
    looping = []
    for sid in parent:
        seen, current = set(), parent.get(sid)
        while current is not None and current not in seen:
            if current == sid:
                looping.append(sid)
                break
            seen.add(current)
            current = parent.get(current)
    return looping


# -- the admin form -------------------------------------------------------------------------------
def test_two_missions_locales_cannot_be_made_each_others_parent_in_the_form(admin_client, admin_store):
    r = save(admin_client, edit(AMBERT_ML), parent_id=THIERS_ML)
    assert r.status_code == 400 and "Une Mission locale ne se rattache à aucune structure" in text(r)
    r = save(admin_client, edit(THIERS_ML), parent_id=AMBERT_ML)
    assert r.status_code == 400
    assert stored(admin_store, AMBERT_ML)["parent_id"] is None
    assert stored(admin_store, THIERS_ML)["parent_id"] is None


def test_a_parent_that_closes_a_loop_of_any_length_is_refused_in_the_form(admin_client, admin_store):
    conn = sqlite3.connect(admin_store)
    with conn:  # CIO Clermont → CIO Issoire → CIO Riom, written before the rules
        conn.execute("UPDATE structures SET parent_id = ? WHERE id = ?", (CIOS[1], CIOS[0]))
        conn.execute("UPDATE structures SET parent_id = ? WHERE id = ?", (CIOS[2], CIOS[1]))
    conn.close()
    r = save(admin_client, edit(CIOS[2]), parent_id=CIOS[0])  # a hand-made post: the list offers MLs
    assert r.status_code == 400
    assert "cela ferait une boucle" in text(r) and "« CIO de Clermont-Ferrand » → « CIO d’Issoire »" in text(
        r
    )
    assert stored(admin_store, CIOS[2])["parent_id"] is None and parent_loops(admin_store) == []
    assert save(admin_client, edit(THIERS_CIO), parent_id=CIOS[0]).status_code == 302  # no loop: fine


def test_an_antenne_is_attached_only_to_a_mission_locale_in_the_form(admin_client, admin_store):
    r = save(admin_client, edit(VIC_ANTENNE), parent_id=CIOS[1])
    assert r.status_code == 400
    assert "Une antenne se rattache à une Mission locale : « CIO d’Issoire » est un CIO" in text(r)
    assert stored(admin_store, VIC_ANTENNE)["parent_id"] == VAL_D_ALLIER_ML
    assert save(admin_client, edit(VIC_ANTENNE), parent_id=AMBERT_ML).status_code == 302


def test_a_structure_with_antennes_cannot_become_a_type_that_cannot_hold_them(admin_client, admin_store):
    r = save(admin_client, edit(VAL_D_ALLIER_ML), type="cio")
    assert r.status_code == 400
    assert "changement de type refusé : 1 structure y est rattachée" in text(r)
    assert stored(admin_store, VAL_D_ALLIER_ML)["type"] == "mission_locale"


def test_coverage_in_the_form_goes_only_to_a_published_mission_locale(admin_client, admin_store):
    r = save(admin_client, edit(THIERS_CIO), couverture="63430")
    assert r.status_code == 400 and "Seule une Mission locale couvre des communes (un CIO non)" in text(r)
    r = save(admin_client, edit(AMBERT_ML), couverture="63003", statut="brouillon")
    assert r.status_code == 400 and "Seule une Mission locale publiée reçoit des communes" in text(r)
    assert stored(admin_store, AMBERT_ML)["statut"] == "publie"
    conn = connect(admin_store)
    try:
        assert (
            conn.execute("SELECT COUNT(*) FROM couverture WHERE structure_id = ?", (THIERS_CIO,)).fetchone()[
                0
            ]
            == 0
        )
    finally:
        conn.close()
    # A published Mission locale gets them; set aside as a draft, it keeps them (nothing is lost).
    assert save(admin_client, edit(AMBERT_ML), couverture="63003").status_code == 302
    assert save(admin_client, edit(AMBERT_ML), statut="brouillon").status_code == 302
    assert form_of(admin_client, edit(AMBERT_ML))["couverture"].splitlines() == ["63003 Ambert"]
    r = save(admin_client, edit(AMBERT_ML), couverture="63003\n63430")
    assert r.status_code == 400  # but a draft gets no new commune


def test_a_new_structure_form_cannot_cover_communes_unless_it_is_a_published_mission_locale(admin_client):
    fields = {"type": "mission_locale", "nom": "Mission locale des Essais", "code_insee": "63132"}
    r = save(admin_client, "/admin/structures/nouvelle", **fields, statut="brouillon", couverture="63132")
    assert r.status_code == 400 and "Seule une Mission locale publiée" in text(r)
    r = save(admin_client, "/admin/structures/nouvelle", **fields, statut="publie", couverture="63132")
    assert r.status_code == 302


# -- imports --------------------------------------------------------------------------------------
def test_an_imported_antenne_is_not_attached_to_a_cio(store_copy, tmp_path):
    text_ = "type;nom;code_insee;parent\nantenne_mission_locale;Antenne des Essais;63132;CIO de Thiers\n"
    code, report, out = run_import(store_copy, write(tmp_path, text_))
    assert code == 0, out
    assert (
        "une antenne se rattache à une Mission locale : « CIO de Thiers » est un CIO" in warnings(report)[2]
    )
    assert structure(store_copy, "antenne-des-essais-63132")["parent_id"] is None


def test_imported_missions_locales_are_never_attached_to_each_other(store_copy, tmp_path):
    text_ = (
        "type;nom;code_insee;parent\n"
        "mission_locale;Mission locale du Livradois-Forez;63003;Mission locale du bassin de Thiers\n"
        "mission_locale;Mission locale du bassin de Thiers;63430;Mission locale du Livradois-Forez\n"
    )
    code, report, out = run_import(store_copy, write(tmp_path, text_))
    assert code == 0, out
    notes = warnings(report)
    assert "une Mission locale ne se rattache à aucune structure" in notes[2]
    assert "une Mission locale ne se rattache à aucune structure" in notes[3]
    assert structure(store_copy, AMBERT_ML)["parent_id"] is None
    assert structure(store_copy, THIERS_ML)["parent_id"] is None


LOOP = (
    "type;nom;code_insee;parent\n"
    "dispositif;Dispositif Alpha;63132;Dispositif Bêta\n"
    "dispositif;Dispositif Bêta;63132;Dispositif Gamma\n"
    "dispositif;Dispositif Gamma;63132;Dispositif Alpha\n"
)


def test_an_import_cannot_make_a_loop_of_parents_through_its_own_rows(store_copy, tmp_path):
    code, report, out = run_import(store_copy, write(tmp_path, LOOP))
    assert code == 0 and report["crees"] == 3, out
    assert parent_loops(store_copy) == []
    assert any("cela ferait une boucle" in message for message in warnings(report).values())
    linked = [structure(store_copy, f"dispositif-{n}-63132")["parent_id"] for n in ("alpha", "beta", "gamma")]
    assert linked.count(None) == 1  # two links kept, the one that closed the loop refused


def test_a_planned_import_refuses_the_same_loop_before_anything_is_written(store_copy):
    conn = connect(store_copy)
    try:
        plan = plan_import(conn, LOOP.encode(), "boucle.csv")
    finally:
        conn.close()
    parent = {r.structure["id"]: r.structure["parent_id"] for r in plan.lignes if r.structure}
    assert len(parent) == 3 and list(parent.values()).count(None) == 1
    assert any("cela ferait une boucle" in m for r in plan.lignes for m in r.avertissements)


def test_an_import_cannot_close_a_loop_through_the_store(store_copy, tmp_path):
    conn = sqlite3.connect(store_copy)
    with conn:
        conn.execute("UPDATE structures SET parent_id = ? WHERE id = ?", (CIOS[1], CIOS[0]))
    conn.close()
    text_ = "id;type;nom;code_insee;parent\n" + f"{CIOS[1]};cio;CIO d'Issoire;63178;CIO de Clermont-Ferrand\n"
    code, report, out = run_import(store_copy, write(tmp_path, text_))
    assert code == 0, out
    assert "cela ferait une boucle" in warnings(report)[2]
    assert structure(store_copy, CIOS[1])["parent_id"] is None and parent_loops(store_copy) == []

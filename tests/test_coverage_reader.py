"""Issue 17: the coverage reader places a line's Mission locale from every column the network's file
gives (code, official name, seat address), says which one, and gives coverage only to published
Missions locales (issue 16); on the small store (fast tier)."""

from __future__ import annotations

import sqlite3

import pytest
from import_helpers import rejected, run_import, write

from locator import lookup
from locator.store import coverage as store_coverage
from locator.store.db import connect

HEADER = (
    "Code INSEE;Nom Commune;Code ML;Nom Officiel ML;Commune présente sur plusieurs ML;"
    "Adresse ML;Code Postal ML;Ville ML\n"
)
LIVRADOIS = "mission-locale-du-livradois-forez-63003"
THIERS = "mission-locale-du-bassin-de-thiers-63430"
CIO_THIERS = "cio-de-thiers-63430"


@pytest.fixture(scope="module")
def built_store(small_built_store):
    """Four départements: these tests join the fast tier."""
    return small_built_store


def covered(db, sid: str) -> list[str]:
    with sqlite3.connect(db) as c:
        return store_coverage.codes_of(c, sid)


def placed_by(report: dict) -> dict[str, tuple[str, str]]:
    """Mission locale id → (what placed it, the column's name), from the report."""
    return {m["id"]: (m["trouvee_par"], m["colonne"]) for m in report["missions_locales"]}


def add_structures(db, tmp_path, rows: str, *args: str) -> None:
    code, report, output = run_import(db, write(tmp_path, rows, name="structures.csv"), *args)
    assert code == 0 and report["rejetes"] == [], output


def test_a_line_is_placed_by_its_code_and_the_report_says_which_column(store_copy, tmp_path):
    text = HEADER + "63003;Ambert;63003;63-ML LIVRADOIS FOREZ;Non;16 av marechal foch;63600;Ambert\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and report["rejetes"] == []
    assert placed_by(report) == {LIVRADOIS: ("code", "Code ML")}
    assert covered(store_copy, LIVRADOIS) == ["63003"]


def test_a_line_whose_code_names_no_seat_is_placed_by_its_official_name(store_copy, tmp_path):
    text = HEADER + "63430;Thiers;63999;63-ML THIERS;Non;;;\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and placed_by(report) == {THIERS: ("nom", "Nom Officiel ML")}


def test_a_line_whose_code_and_name_fail_is_placed_by_the_seat_address_like_la_tour_du_pin(
    store_copy, tmp_path
):
    # The network's code and label of a historic seat that is no longer one (38509 « LA TOUR DU PIN »,
    # seated in Bourgoin-Jallieu): only the address columns say where the Mission locale is.
    text = HEADER + "63010;Arlanc;63999;63-ML MARSAC EN LIVRADOIS;Non;16 av marechal foch;63600;Ambert\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and report["rejetes"] == []
    assert placed_by(report) == {LIVRADOIS: ("adresse", "Adresse ML, Code Postal ML, Ville ML")}
    assert covered(store_copy, LIVRADOIS) == ["63010"]
    with connect(store_copy) as c:
        seat = next(s for s in store_coverage.seats(c) if s["structure_id"] == LIVRADOIS)
    assert (seat["adresse"], seat["code_postal"], seat["commune"], seat["code_insee"]) == (
        "16 av marechal foch",
        "63600",
        "Ambert",
        "63003",
    )


def test_a_line_nothing_places_is_rejected_saying_what_was_tried(store_copy, tmp_path):
    text = HEADER + "63263;Orcines;63999;63-ML NULLE PART;Non;1 rue du puy;63870;Orcines\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 1  # no valid line: nothing imported
    why = rejected(report)[2]
    assert "introuvable" in why and "ni son code, ni son nom, ni l’adresse de son siège" in why
    assert "1 rue du puy" in why


def test_among_missions_locales_of_the_seat_s_commune_the_closest_address_then_the_nearest_wins(
    store_copy, tmp_path
):
    # A second Mission locale in Ambert, 2 km from the town hall (the Livradois one is 0.4 km away).
    add_structures(
        store_copy,
        tmp_path,
        "type;nom;adresse;code_postal;commune;latitude;longitude\n"
        "mission_locale;Mission locale d'essai;3 rue de la République;63600;Ambert;45.566;3.743\n",
    )
    other = "mission-locale-d-essai-63003"
    text = HEADER + "63010;Arlanc;63999;63-ML ESSAI;Non;3 r de la republique;63600;Ambert\n"
    text += "63023;Auzelles;63998;63-ML AUTRE;Non;99 chemin inconnu;63600;Ambert\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0 and report["rejetes"] == []
    assert covered(store_copy, other) == ["63010"]  # the same address, whatever the abbreviations
    assert covered(store_copy, LIVRADOIS) == ["63023"]  # no address alike: the nearest to the centre


def test_coverage_lines_naming_a_cio_or_a_draft_are_rejected(store_copy, tmp_path):
    add_structures(
        store_copy,
        tmp_path,
        "type;nom;code_insee\nmission_locale;Mission locale en brouillon;63263\n",
        "--brouillon",
    )
    draft = "mission-locale-en-brouillon-63263"
    text = f"code_insee;id_structure\n63430;{CIO_THIERS}\n63263;{draft}\n63003;{LIVRADOIS}\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text))
    assert code == 0
    bad = rejected(report)
    assert set(bad) == {2, 3}
    assert "n’est pas une Mission locale publiée" in bad[2] and "cio" in bad[2]
    assert "n’est pas une Mission locale publiée" in bad[3] and "brouillon" in bad[3]
    assert covered(store_copy, CIO_THIERS) == [] and covered(store_copy, draft) == []
    assert covered(store_copy, LIVRADOIS) == ["63003"]
    # The network's file cannot reach the draft either: its code and name point at Orcines, where only
    # the draft is seated.
    text = HEADER + "63263;Orcines;63263;63-ML ORCINES;Non;;;\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text, name="reseau.csv"))
    assert code == 1 and "introuvable" in rejected(report)[2]
    assert covered(store_copy, draft) == []


def test_the_list_s_date_comes_from_its_name_and_the_answer_says_it_is_the_network_s(store_copy, tmp_path):
    text = HEADER + "63003;Ambert;63003;63-ML LIVRADOIS FOREZ;Non;16 av marechal foch;63600;Ambert\n"
    code, report, _ = run_import(store_copy, write(tmp_path, text, name="zones_de_couverture_mars_2025.csv"))
    assert code == 0
    with connect(store_copy) as c:
        rows = store_coverage.rows_of(c, LIVRADOIS)
        answer = lookup.competent(c, "63003", region="84", finder_url="x")
    assert rows == [
        ["63003", f"{store_coverage.NETWORK_SOURCE} : zones_de_couverture_mars_2025.csv", "2025-03-01"]
    ]
    assert answer["methode"] == "couverture"
    assert answer["raison"] == (
        "Ambert figure dans la liste des communes couvertes par la Mission locale du Livradois-Forez : "
        "la liste officielle, publiée par le réseau des Missions locales en mars 2025."
    )
    assert answer["liste"] == {
        "source": rows[0][1],
        "date": "2025-03-01",
        "officielle": True,
    }


def test_a_plain_list_is_not_called_the_official_one(store_copy, tmp_path):
    code, _, _ = run_import(
        store_copy, write(tmp_path, f"code_insee;id_structure\n63003;{LIVRADOIS}\n", name="ma_liste.csv")
    )
    assert code == 0
    with connect(store_copy) as c:
        raison = lookup.competent(c, "63003", region="84", finder_url="x")["raison"]
    assert "une liste importée du fichier « ma_liste.csv »" in raison and "officielle" not in raison


def test_without_any_list_the_answer_says_it_is_inferred(conn):
    raison = lookup.competent(conn, "63003", region="84", finder_url="x")["raison"]
    assert "pas encore importée" not in raison
    assert raison.endswith(
        "C’est un territoire probable, déduit des lieux d’accueil : aucune liste officielle de "
        "communes couvertes ne nomme cette commune."
    )


def test_hostile_cells_about_a_mission_locale_reject_their_line_not_the_import(store_copy, tmp_path):
    text = HEADER + '63003;Ambert;63003;63-ML LIVRADOIS FOREZ;Non;=HYPERLINK("http://x");63600;Ambert\n'
    text += "63010;Arlanc;63003;" + "X" * 5000 + ";Non;;;\n"
    text += "63016;Augerolles;63003;63-ML LIVRADOIS FOREZ;Non;16 av marechal foch;63600;Ambert\n"
    code, report, output = run_import(store_copy, write(tmp_path, text))
    assert code == 0, output
    bad = rejected(report)
    assert set(bad) == {2, 3}
    assert "formule" in bad[2] and "trop long" in bad[3]
    assert covered(store_copy, LIVRADOIS) == ["63016"]

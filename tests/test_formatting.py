"""How the pages say things: links that are safe, numbers and dates in French."""

from __future__ import annotations

import datetime as dt

from locator.geo.names import of
from locator.web import formatting as f


def test_phone_numbers_become_international_tel_links():
    assert f.tel_href("04 73 82 05 88") == "tel:+33473820588"
    assert f.tel_href("04.73.82.05.88") == "tel:+33473820588"
    assert f.tel_href("+33 4 73 82 05 88") == "tel:+33473820588"
    assert f.tel_href("ask the front desk") is None


def test_only_web_addresses_become_links():
    assert f.web_url("http://www.mljba.fr") == "http://www.mljba.fr"
    assert f.web_url("www.mljba.fr") == "http://www.mljba.fr"
    assert f.web_url("javascript:alert(1)") is None
    assert f.web_url("data:text/html,<b>x</b>") is None
    assert f.host("http://www.mljba.fr/contact") == "mljba.fr"


def test_only_plausible_email_addresses_become_mailto_links():
    assert f.mailto("info@mljba.fr") == "mailto:info@mljba.fr"
    assert f.mailto('x@y.fr" onmouseover="alert(1)') is None
    assert f.mailto("pas une adresse") is None


def test_distances_in_french():
    assert f.km(0.44) == "440 m"
    assert f.km(4.24) == "4,2 km"
    assert f.km(57.1) == "57 km"


def test_old_information_is_flagged_for_checking():
    today = dt.date(2026, 11, 27)
    assert f.information_date("2017-12-12", 3, today) == {
        "texte": "Information de 2017",
        "a_verifier": True,
    }
    assert f.information_date("2026-03-05", 3, today) == {
        "texte": "Information du 5 mars 2026",
        "a_verifier": False,
    }
    assert f.information_date(None, 3, today)["a_verifier"] is True


def test_sources_are_named_in_plain_words():
    srcs = f.sources(
        "https://github.com/GuillaumeSaulea/Carte-reseaux-SPRO-ARA/blob/x/data/a.js"
        " | https://github.com/betagouv/annuaire/blob/y/v1/organismes/63/mission_locale.json"
    )
    assert [s["nom"] for s in srcs] == [
        "carte des réseaux du SPRO Auvergne-Rhône-Alpes",
        "Annuaire de l’administration (version 2017)",
    ]
    assert f.sources("saisie manuelle") == [{"nom": "saisie manuelle", "url": None}]


def test_addresses_in_capitals_are_written_in_ordinary_case():
    assert f.pretty_address("16 AVENUE MARECHAL FOCH") == "16 Avenue Marechal Foch"
    assert f.pretty_address("PLACE DE L'HOTEL DE VILLE, BP 12") == "Place de l’Hotel de Ville, BP 12"
    assert f.pretty_address("2 rue Victor-Hugo") == "2 rue Victor-Hugo"


def test_directions_link_points_at_the_destination():
    url = f.directions_url(45.550604, 3.738085)
    assert url.startswith("https://www.openstreetmap.org/directions?route=%3B45.550604%2C3.738085")
    assert "route=45.500000%2C3.700000%3B45.550604" in f.directions_url(45.550604, 3.738085, (45.5, 3.7))


def test_place_names_take_french_elision_and_contraction():
    assert of("Ambert") == "d’Ambert"
    assert of("Le Puy-en-Velay") == "du Puy-en-Velay"
    assert of("Les Abrets en Dauphiné") == "des Abrets en Dauphiné"
    assert of("La Roche-Morey") == "de La Roche-Morey"
    assert of("Thiers") == "de Thiers"


def test_a_distance_just_under_a_kilometre_is_said_in_kilometres():
    assert f.km(0.996) == "1,0 km"
    assert f.km(0.994) == "990 m"
    assert f.km(0.5) == "500 m"


def test_counts_agree_with_their_noun():
    assert f.count(1, "lieu connu", "lieux connus") == "1 lieu connu"
    assert f.count(3, "lieu connu", "lieux connus") == "3 lieux connus"


def test_every_type_has_a_plain_what_is_line():
    from locator.store.schema import STRUCTURE_TYPES

    assert all(f.what_is(t) for t in STRUCTURE_TYPES)

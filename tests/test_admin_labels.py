"""Admin pages say codes in words: types, statuses, roles, field names, dates and INSEE codes."""

from __future__ import annotations

from locator.store.reports import STATUSES as REPORT_STATUSES
from locator.store.schema import STATUSES, STRUCTURE_TYPES
from locator.store.users import ROLES
from locator.web.admin import labels


def test_every_stored_type_status_and_role_has_words():
    for code in STRUCTURE_TYPES:
        assert labels.type_word(code) != code and "_" not in labels.type_word(code)
    assert [labels.status_word(s) for s in STATUSES] == ["Publiée", "Brouillon (non publiée)", "Archivée"]
    assert all(labels.role_word(r) != r for r in ROLES)
    assert all(labels.report_status_word(s) != s for s in REPORT_STATUSES)
    assert labels.type_word("mission_locale") == "Mission locale"


def test_history_fields_and_values_are_said_as_the_form_says_them():
    assert labels.field_word("date_maj") == "Date de mise à jour"
    assert labels.field_word("telephone") == "Téléphone"
    assert labels.field_word("une_colonne_nouvelle") == "Une colonne nouvelle"
    assert labels.value_words("type", "antenne_mission_locale") == "Antenne de Mission locale"
    assert labels.value_words("statut", "publie") == "Publiée"
    assert labels.value_words("date_maj", "2026-01-29") == "29/01/2026"
    assert labels.value_words("precision_geocodage", "commune") == "centre de la commune"
    assert labels.value_words("telephone", None) == ""
    assert labels.value_words("code_postal", "63200") == "63200"


def test_an_insee_code_never_reads_as_a_postcode():
    assert labels.commune_with_code("Riom", "63300") == "Riom (code INSEE 63300)"
    assert labels.commune_with_code(None, "2A004") == "Code INSEE 2A004"
    assert labels.commune_with_code("Riom", None) == "Riom"


def test_dates_that_are_not_dates_are_shown_as_they_are():
    assert labels.day_words("2026-12-04T15:53:00+00:00") == "04/12/2026"
    assert labels.day_words("vers 2017") == "vers 2017" and labels.day_words(None) == ""

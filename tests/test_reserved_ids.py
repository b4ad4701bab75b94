"""Ids of new structures are safe path segments and never a word of the site's own paths."""

from __future__ import annotations

import pytest
from admin_helpers import make_app, text
from import_helpers import rejected, run_import, structure, write
from test_admin_structures import save

from locator.ingest.structures import RESERVED_IDS


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need the Puy-de-Dôme only: the small store (fast tier)."""
    return small_built_store


HEADER = "id;type;nom;code_insee\n"


def test_every_word_of_the_site_paths_is_a_reserved_id(built_store):
    app = make_app(built_store)
    words = {
        part for rule in app.url_map.iter_rules() for part in rule.rule.split("/") if part and "<" not in part
    }
    assert "nouvelle" in words and words <= RESERVED_IDS, sorted(words - RESERVED_IDS)


def test_an_imported_row_cannot_take_a_reserved_or_unsafe_id(store_copy, tmp_path):
    rows = [
        "nouvelle;cio;CIO Nouvelle;63003",
        "archiver;cio;CIO Archiver;63003",
        "territoires.geojson;cio;CIO Territoires;63003",
        "cio-fini-par-un-tiret-;cio;CIO Tiret;63003",
        "cio-correct;cio;CIO Correct;63003",
    ]
    code, report, out = run_import(store_copy, write(tmp_path, HEADER + "\n".join(rows) + "\n"))
    assert code == 0, out
    refused = rejected(report)
    assert "identifiant « nouvelle » réservé" in refused[2]
    assert "identifiant « archiver » réservé" in refused[3]
    assert "identifiant « territoires.geojson » réservé" in refused[4]
    assert "identifiant invalide « cio-fini-par-un-tiret- »" in refused[5]
    assert 6 not in refused and structure(store_copy, "cio-correct")["nom"] == "CIO Correct"
    for sid in ("nouvelle", "archiver", "territoires.geojson", "cio-fini-par-un-tiret-"):
        assert structure(store_copy, sid) is None


def test_a_name_without_letters_or_digits_is_refused_before_it_makes_an_unsafe_id(
    admin_client, admin_store, tmp_path
):
    fields = {"type": "cio", "nom": "« — »", "code_insee": "63003", "statut": "brouillon"}
    r = save(admin_client, "/admin/structures/nouvelle", **fields)
    assert r.status_code == 400 and "n’a ni lettre latine ni chiffre" in text(r)
    assert structure(admin_store, "-63003") is None
    code, report, out = run_import(admin_store, write(tmp_path, "type;nom;code_insee\ncio;« — »;63003\n"))
    assert code == 1 and "n’a ni lettre latine ni chiffre" in rejected(report)[2]

"""The admin form and imports check a cell with the same function: same verdict, same French message."""

from __future__ import annotations

import re

import pytest
from admin_helpers import text
from import_helpers import run_import, write
from test_admin_structures import AMBERT_ML, EDIT, form_of, save, stored

from locator.ingest import clean


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Ambert and Thiers are in the small store (fast tier)."""
    return small_built_store


ROW = "type;nom;code_insee;{field}\npartenaire;Relais jeunes d’Ambert;63003;{value}\n"
BAD_CELLS = [
    ("telephone", "voir site"),
    ("telephone", "12"),
    ("telephone", '"=HYPERLINK(""tel:0473000000"")"'),
    ("telephone", "-0473000000"),
    ("courriel", "+cmd@evil.fr"),
    ("courriel", "=1+1@exemple.fr"),
    ("courriel", "pas-un-courriel"),
    ("site_web", "javascript:alert(1)"),
    ("nom", "=1+1"),
]


def _typed(value: str) -> str:
    """The cell as the admin types it in the form (the CSV quoting removed)."""
    return value[1:-1].replace('""', '"') if value.startswith('"') else value


def _import_error(db, tmp_path, field: str, value: str) -> str:
    text_ = ROW.format(field=field, value=value)
    if field == "nom":
        text_ = f"type;nom;code_insee\npartenaire;{value};63003\n"
    code, report, out = run_import(db, write(tmp_path, text_))
    assert report is not None, out
    [rejected] = report["rejetes"]
    return " ".join(rejected["erreurs"])


@pytest.mark.parametrize(("field", "value"), BAD_CELLS)
def test_a_bad_cell_gets_the_same_message_from_the_import_and_from_the_form(
    admin_client, admin_store, tmp_path, field, value
):
    before = stored(admin_store, AMBERT_ML)
    from_import = _import_error(admin_store, tmp_path, field, value)
    try:
        clean_message = {
            "telephone": clean.phone,
            "courriel": clean.email,
            "site_web": clean.url,
            "nom": lambda v: clean.text(v, "nom"),
        }[field](_typed(value))
    except clean.Invalid as err:
        clean_message = str(err)
    else:
        pytest.fail(f"{field} « {value} » was accepted")
    assert clean_message in from_import
    r = save(admin_client, EDIT, **{field: _typed(value)})
    assert r.status_code == 400
    assert clean_message in text(r)
    assert stored(admin_store, AMBERT_ML) == before  # nothing written by either path


def test_a_phone_typed_in_the_form_is_stored_like_an_imported_one(admin_client, admin_store, tmp_path):
    assert save(admin_client, EDIT, telephone="0262 90 00 00").status_code == 302
    assert stored(admin_store, AMBERT_ML)["telephone"] == "+262262900000"
    assert form_of(admin_client, EDIT)["telephone"] == "0262 90 00 00"  # shown as the admin typed it
    code, report, _ = run_import(
        admin_store, write(tmp_path, ROW.format(field="telephone", value="0262 90 00 00"))
    )
    assert code == 0 and report["crees"] == 1
    assert save(admin_client, EDIT, telephone="+33 (0)4 73 82 05 88").status_code == 302
    assert stored(admin_store, AMBERT_ML)["telephone"] == "+33473820588"


def test_public_page_shows_the_french_number_and_dials_e164(admin_client, admin_store):
    assert save(admin_client, EDIT, telephone="+33 4 73 82 05 88").status_code == 302
    page = admin_client.get(f"/structures/{AMBERT_ML}").get_data(as_text=True)
    assert re.search(r'href="tel:\+33473820588">Appeler le 04 73 82 05 88<', page)
    assert save(admin_client, EDIT, telephone="+41 22 345 67 89").status_code == 302
    page = admin_client.get(f"/structures/{AMBERT_ML}").get_data(as_text=True)
    assert re.search(r'href="tel:\+41223456789">Appeler le \+41 22 345 67 89<', page)

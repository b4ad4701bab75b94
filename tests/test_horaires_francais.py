"""French opening hours as admins write them → OSM opening_hours, in imports, the admin form and the
public pages (issue 20, item 3)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import random
import re

import pytest
from admin_helpers import Clock, csrf_token, make_app, post_form, text
from import_helpers import DATA, by_name, run_import, warnings, write
from store_helpers import as_version
from test_hours_bounds import _form_values

from locator.hours import french, opening_hours
from locator.hours.opening_hours import TIMEZONE
from locator.store import db as store_db
from locator.store import structures as store_structures
from locator.store.schema import SCHEMA_VERSION

PHRASINGS = DATA / "horaires_francais.csv"
AMBERT_ML = "mission-locale-du-livradois-forez-63003"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Four départements (Ambert, 63003, among them) are enough: the fast tier."""
    return small_built_store


def _phrasings() -> list[dict[str, str]]:
    with PHRASINGS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TIMEZONE)


# ------------------------------------------------------------------ the reading


def test_the_data_file_holds_thirty_phrasings_and_some_that_cannot_be_read():
    rows = _phrasings()
    assert len(rows) >= 30
    assert sum(r["compris"] == "non" for r in rows) >= 5


@pytest.mark.parametrize("row", _phrasings(), ids=lambda r: r["texte"][:50])
def test_each_phrasing_reads_as_its_expected_osm_form_or_note(row):
    reading = french.read(row["texte"])
    assert (reading.horaires, reading.note, reading.compris) == (
        row["osm"] or None,
        row["note"] or None,
        row["compris"] == "oui",
    ), reading.probleme


def test_every_expected_osm_form_is_valid_for_opening_hours_py():
    expected = [r["osm"] for r in _phrasings() if r["osm"]]
    assert expected and all(opening_hours.is_valid(osm) for osm in expected)


def test_osm_input_is_kept_as_written():
    spec = 'Mo-Fr 09:00-12:00; We 14:00-17:00 "sur rendez-vous"; PH off'
    assert french.read(spec).horaires == spec


def test_a_reading_that_is_not_understood_says_why_in_french():
    reading = french.read("lundi 14h-9h")
    assert not reading.compris and reading.horaires is None
    assert reading.probleme == "la plage 14h–9h finit avant de commencer"
    assert "deux plages se chevauchent" in french.read("lundi 9h-12h et 11h-14h").probleme


def test_overlong_or_overcomplex_text_is_not_read():
    week = "lundi 9h-12h, " * 40
    assert len(week) > french.MAX_CHARS
    assert "trop long" in french.read(week).probleme
    words = "; ".join(["lundi de 9h à 10h et de 10h30 à 11h et de 11h30 à 12h"] * 9)
    assert len(words) <= french.MAX_CHARS
    reading = french.read(words)
    assert not reading.compris and "trop complexe" in reading.probleme


def test_a_half_day_said_with_hours_of_the_other_half_is_not_read():
    assert french.read("lundi matin 9h-12h").horaires == "Mo 09:00-12:00"
    reading = french.read("mardi après-midi de 9h à 11h")
    assert not reading.compris and "après-midi annoncé" in reading.probleme


def test_word_soup_never_raises_and_whatever_is_read_is_valid_osm():
    # Seeded: the same 3,000 texts every run, made of the words and marks the grammar knows.
    vocabulary = (
        "lundi", "mardi", "Lu", "Ve", "du", "au", "de", "à", "et", "sauf", "fermé", "jours", "fériés",
        "matin", "après-midi", "après", "midi", "minuit", "le", "tous", "semaine", "week-end", "sans",
        "sur", "rendez-vous", "rdv", "9h", "12h", "14h30", "8.30", "24h", "0h", "17", "h30", "99", "x",
        "-", ",", ";", "/", "\n", ":", "(", ")", "’", "Mo-Fr 09:00-12:00", "PH off",
    )  # fmt: skip
    rng = random.Random(20)
    for _ in range(3000):
        soup = rng.choice([" ", ""]).join(rng.choice(vocabulary) for _ in range(rng.randint(1, 12)))
        reading = french.read(soup)
        assert reading.horaires is None or opening_hours.is_valid(reading.horaires), soup
        assert reading.compris or (reading.note == soup.strip() and reading.probleme), soup


def test_a_later_closing_half_day_cuts_the_week_it_follows():
    assert french.convert("du lundi au vendredi 9h-17h\nfermé le jeudi matin") == (
        "Mo-We,Fr 09:00-17:00; Th 12:00-17:00"
    )


# ------------------------------------------------------------------ imports


def test_an_import_stores_french_hours_in_osm_form_served_by_the_api(store_copy, tmp_path):
    file = write(
        tmp_path,
        "type;nom;code_insee;horaires\n"
        "cio;CIO des horaires écrits;63003;du lundi au vendredi de 9h à 12h et de 14h à 17h\n"
        "cio;CIO du mardi;63003;mardi 9h-12h\n"
        "cio;CIO abrégé;63003;Lu-Ve 08:30-17:00\n",
    )
    code, report, _ = run_import(store_copy, file)
    assert code == 0 and report["crees"] == 3 and not report["avertissements"]
    assert [(h["ligne"], h["osm"]) for h in report["horaires"]] == [
        (2, "Mo-Fr 09:00-12:00,14:00-17:00"),
        (3, "Tu 09:00-12:00"),
        (4, "Mo-Fr 08:30-17:00"),
    ]
    sid = by_name(store_copy, "CIO des horaires écrits")["id"]
    api = make_app(store_copy).test_client().get(f"/api/v1/structures/{sid}").get_json()
    assert api["horaires_accueil"] == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert api["horaires_note"] is None


def test_the_dry_run_shows_each_hours_cell_as_written_and_as_read(store_copy, tmp_path):
    file = write(
        tmp_path,
        "type;nom;code_insee;horaires\n"
        "cio;CIO un;63003;9h-12h / 14h-17h du lundi au vendredi\n"
        "cio;CIO deux;63003;Mo-Fr 09:00-17:00\n",
    )
    code, report, _ = run_import(store_copy, file, "--dry-run")
    assert code == 0
    assert report["horaires"] == [
        {
            "ligne": 2,
            "texte": "9h-12h / 14h-17h du lundi au vendredi",
            "osm": "Mo-Fr 09:00-12:00,14:00-17:00",
            "note": None,
        }
    ]  # already OSM: nothing to show
    assert by_name(store_copy, "CIO un") is None


def test_unreadable_hours_are_a_row_warning_and_a_public_note_never_hours(store_copy, tmp_path):
    file = write(
        tmp_path,
        "type;nom;code_insee;horaires\n"
        "cio;CIO des vacances;63003;ouvert pendant les vacances scolaires\n"
        "cio;CIO sur rendez-vous;63003;Sur rendez-vous\n",
    )
    code, report, _ = run_import(store_copy, file)
    assert code == 0 and report["crees"] == 2
    said = warnings(report)
    assert "horaires non reconnus « ouvert pendant les vacances scolaires »" in said[2]
    assert "gardés comme note" in said[2]
    assert 3 not in said  # « sur rendez-vous » is understood: a note, not a problem
    vacances, rdv = by_name(store_copy, "CIO des vacances"), by_name(store_copy, "CIO sur rendez-vous")
    assert vacances["horaires_accueil"] is None
    assert vacances["horaires_note"] == "ouvert pendant les vacances scolaires"
    assert (rdv["horaires_accueil"], rdv["horaires_note"]) == (None, "sur rendez-vous")
    page = text(make_app(store_copy).test_client().get(f"/structures/{rdv['id']}"))
    assert "Horaires\u202f: sur rendez-vous" in page
    assert "Ouvert maintenant" not in page and "Fermé" not in page


def test_new_hours_from_a_file_replace_the_stored_note_but_unreadable_ones_keep_the_stored_hours(
    store_copy, tmp_path
):
    first = write(
        tmp_path, "id;type;nom;code_insee;horaires\ncio-essai;cio;CIO essai;63003;sur rendez-vous\n"
    )
    assert run_import(store_copy, first)[0] == 0
    second = write(
        tmp_path,
        "id;type;nom;code_insee;horaires\ncio-essai;cio;CIO essai;63003;lundi 9h-12h\n",
        name="g.csv",
    )
    assert run_import(store_copy, second)[0] == 0
    stored = by_name(store_copy, "CIO essai")
    assert (stored["horaires_accueil"], stored["horaires_note"]) == ("Mo 09:00-12:00", None)
    third = write(
        tmp_path,
        "id;type;nom;code_insee;horaires\ncio-essai;cio;CIO essai;63003;le 1er lundi\n",
        name="h.csv",
    )
    assert run_import(store_copy, third)[0] == 0
    stored = by_name(store_copy, "CIO essai")
    assert (stored["horaires_accueil"], stored["horaires_note"]) == ("Mo 09:00-12:00", "le 1er lundi")


def test_the_public_page_says_open_now_for_imported_french_hours_at_a_fixed_instant(store_copy, tmp_path):
    file = write(
        tmp_path,
        "type;nom;code_insee;horaires\n"
        "cio;CIO ouvert le matin;63003;du lundi au vendredi de 9h à 12h, l’après-midi sur rendez-vous\n",
    )
    assert run_import(store_copy, file)[0] == 0
    sid = by_name(store_copy, "CIO ouvert le matin")["id"]
    clock = Clock()
    client = make_app(store_copy, CLOCK=clock).test_client()
    clock.now = paris(2026, 11, 27, 10, 0).timestamp()  # a Friday
    page = text(client.get(f"/structures/{sid}"))
    assert "Ouvert maintenant, jusqu’à 12 h" in page
    assert "Du lundi au vendredi : 9 h – 12 h" in page
    assert "Horaires\u202f: l’après-midi sur rendez-vous" in page
    clock.now = paris(2026, 11, 27, 15, 0).timestamp()
    assert "Fermé — ouvre lundi à 9 h" in text(client.get(f"/structures/{sid}"))


def test_hours_stored_in_french_by_an_older_import_drive_the_public_page_too(store_copy):
    writer = store_db.writer(store_copy)
    ml = store_structures.get(writer.conn, AMBERT_ML)
    with writer.conn:  # as imports stored them before they were converted
        store_structures.upsert(writer, [{**ml, "horaires_accueil": "mardi 9h-12h"}], "2026-11-01T00:00:00")
    writer.conn.close()
    clock = Clock()
    client = make_app(store_copy, CLOCK=clock).test_client()
    clock.now = paris(2026, 12, 1, 10, 0).timestamp()  # a Tuesday
    page = text(client.get(f"/structures/{AMBERT_ML}"))
    assert "Ouvert maintenant, jusqu’à 12 h" in page
    assert "Mardi : 9 h – 12 h" in page and "mardi 9h-12h" not in page


# ------------------------------------------------------------------ the wizard

WIZARD_FILE = (
    "type;nom;code_postal;commune;horaires\n"
    "cio;CIO du Livradois;63600;Ambert;du lundi au vendredi de 9h à 12h et de 14h à 17h\n"
    "cio;CIO des vacances;63600;Ambert;pendant les vacances scolaires\n"
).encode()


def _row_text(page: str, ligne: int) -> str:
    m = re.search(rf'<tr id="ligne-{ligne}".*?</tr>', page, re.S)
    assert m, f"line {ligne} missing"
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(0))))


def test_the_wizard_preview_shows_hours_as_written_and_as_read_then_publishes_them(admin_client, admin_store):
    token = csrf_token(admin_client, "/admin/import")
    data = {"csrf_token": token, "statut": "publie", "fichier": (io.BytesIO(WIZARD_FILE), "horaires.csv")}
    r = admin_client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert r.status_code == 302, text(r)[-2000:]
    preview = r.headers["Location"]
    page = admin_client.get(preview).get_data(as_text=True)
    assert (
        "Horaires\u202f: « du lundi au vendredi de 9h à 12h et de 14h à 17h » → Mo-Fr 09:00-12:00,14:00-17:00"
        in _row_text(page, 2)
    )
    vacances = _row_text(page, 3)
    note = "note pour la page publique\u202f: « pendant les vacances scolaires »"
    assert f"aucune plage horaire\u202f; {note}" in vacances
    assert "horaires non reconnus « pendant les vacances scolaires »" in vacances
    r = post_form(admin_client, f"{preview}/confirmer", page=preview)
    assert r.status_code in (302, 303), text(r)[-2000:]
    cio = by_name(admin_store, "CIO du Livradois")
    assert cio["horaires_accueil"] == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert by_name(admin_store, "CIO des vacances")["horaires_note"] == "pendant les vacances scolaires"


# ------------------------------------------------------------------ the admin form


def _hours_form(client, path, hours: str, mode: str = "texte") -> dict[str, str]:
    page = client.get(path).get_data(as_text=True)
    assert 'name="horaires_note"' in page and 'name="horaires_texte"' in page
    # The helper reads the <input> fields; the type is a <select>, the status radios.
    fixed = {"type": "mission_locale", "statut": "publie", "horaires_mode": mode, "horaires_texte": hours}
    return _form_values(client, path) | fixed


def test_the_admin_form_reads_french_hours_with_the_import_s_reading(admin_client, admin_store):
    edit = f"/admin/structures/{AMBERT_ML}"
    hours = "du lundi au vendredi de 9h à 12h, sur rendez-vous l’après-midi"
    values = _hours_form(admin_client, edit, hours, mode="tableau")  # the table's text box
    r = post_form(admin_client, edit, values, page=edit)
    assert r.status_code in (200, 302, 303), text(r)
    with store_db.connect(admin_store) as conn:
        stored = store_structures.get(conn, AMBERT_ML)
    assert stored["horaires_accueil"] == "Mo-Fr 09:00-12:00"
    assert stored["horaires_note"] == "sur rendez-vous l’après-midi"


def test_the_admin_form_refuses_hours_it_cannot_read_in_french(admin_client, admin_store):
    edit = f"/admin/structures/{AMBERT_ML}"
    with store_db.connect(admin_store) as conn:
        before = store_structures.get(conn, AMBERT_ML)["horaires_accueil"]
    r = post_form(admin_client, edit, _hours_form(admin_client, edit, "lundi 14h-9h"), page=edit)
    assert r.status_code == 400
    assert "« lundi 14h-9h » n’a pas pu être lu (la plage 14h–9h finit avant de commencer)" in text(r)
    with store_db.connect(admin_store) as conn:
        assert store_structures.get(conn, AMBERT_ML)["horaires_accueil"] == before


# ------------------------------------------------------------------ the store


def test_a_store_of_schema_6_gets_the_hours_note_column_without_a_rebuild(store_copy):
    as_version(store_copy, "6")
    with store_db.connect(store_copy) as conn:
        assert "horaires_note" not in {r[1] for r in conn.execute("PRAGMA table_info(structures)")}
    assert store_db.check(store_copy) is None
    store_db.migrate(store_copy)
    with store_db.connect(store_copy) as conn:
        assert "horaires_note" in {r[1] for r in conn.execute("PRAGMA table_info(structures)")}
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        assert version == SCHEMA_VERSION == "7"
        assert store_structures.get(conn, AMBERT_ML)["horaires_note"] is None

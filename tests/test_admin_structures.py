"""The structure form: every field, hours editor, parent, coverage; checked like an import; history."""

from __future__ import annotations

import html
import json
import re
import sqlite3

import pytest
from admin_helpers import post_form, text

from locator import lookup
from locator.hours import form as hours_form
from locator.store.db import connect


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need four départements only: the small store (fast tier)."""
    return small_built_store


AMBERT_ML = "mission-locale-du-livradois-forez-63003"
THIERS_ML = "mission-locale-du-bassin-de-thiers-63430"
EDIT = f"/admin/structures/{AMBERT_ML}"


def form_of(client, path):
    """The form's current values, as a browser would send them back (inputs, selects, textareas)."""
    page = client.get(path).get_data(as_text=True)
    form = page[page.index('id="fiche"') :]
    form = form[: form.index("</form>")]
    values = {}
    for tag in re.findall(r"<input[^>]+>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag:
            continue
        values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        values[name] = html.unescape(chosen.group(1)) if chosen else ""
    for name, body in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        values[name] = html.unescape(body)
    return values


def status_form(client, path, action):
    """The hidden fields of the page's archive or restore form (`action`: archiver|restaurer)."""
    page = client.get(path).get_data(as_text=True)
    start = page.index(f'action="{path}/{action}"')
    form = page[start : page.index("</form>", start)]
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
        if name != "csrf_token"
    }


def press(client, path, action):
    """Press the page's archive or restore button, as a browser would (its hidden fields included)."""
    return post_form(client, f"{path}/{action}", status_form(client, path, action), page=path)


def save(client, path, **changes):
    values = form_of(client, path)
    values.update(changes)
    values = {k: v for k, v in values.items() if v is not None}
    return post_form(client, path, values, page=path)


def stored(db, structure_id):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM structures WHERE id = ?", (structure_id,)).fetchone()
        return dict(row) if row else None
    finally:
        conn.close()


def history_of(db, structure_id):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [
            dict(r)
            for r in conn.execute(
                "SELECT * FROM historique WHERE structure_id = ? ORDER BY id", (structure_id,)
            )
        ]
    finally:
        conn.close()


def test_form_shows_every_field_of_the_structure(admin_client):
    page = text(admin_client.get(EDIT))
    for label in (
        "Type",
        "Nom",
        "Statut",
        "Rattachée à",
        "Adresse",
        "Code postal",
        "Commune",
        "Code INSEE",
        "Latitude",
        "Longitude",
        "Téléphone",
        "Courriel",
        "Site web",
        "Horaires d’accueil",
        "Description",
        "Source",
        "Communes couvertes",
    ):
        assert label in page, label
    values = form_of(admin_client, EDIT)
    assert values["nom"] == "Mission locale du Livradois-Forez"
    assert values["type"] == "mission_locale" and values["statut"] == "publie"
    assert values["code_insee"] == "63003" and values["telephone"] == "04 73 82 05 88"
    assert 'name="h-0-0-debut"' in page and 'name="h-6-1-fin"' in page


def test_edit_is_saved_with_who_when_before_and_after(admin_client, admin_store):
    r = save(admin_client, EDIT, telephone="04 73 82 00 00", description="Accueil sans rendez-vous le matin.")
    assert r.status_code == 302 and r.headers["Location"] == EDIT
    s = stored(admin_store, AMBERT_ML)
    assert s["telephone"] == "+33473820000" and s["description"] == "Accueil sans rendez-vous le matin."
    assert s["origine"] == "manuel" and s["latitude"] == pytest.approx(45.550604)
    [change] = history_of(admin_store, AMBERT_ML)
    assert (
        change["auteur"] == "admin@example.fr"
        and change["action"] == "modifie"
        and change["import_id"] is None
    )
    assert json.loads(change["avant"])["telephone"] == "+33473820588"
    assert json.loads(change["apres"])["telephone"] == "+33473820000"
    page = text(admin_client.get(EDIT))
    assert "Téléphone : « 04 73 82 05 88 » → « 04 73 82 00 00 »" in page
    assert "Accueil sans rendez-vous le matin." in text(admin_client.get("/admin/historique"))


def test_saving_an_unchanged_form_records_nothing(admin_client, admin_store):
    r = save(admin_client, EDIT, verifie=None)
    assert r.status_code == 302
    assert "Aucun changement." in text(admin_client.get(EDIT))
    assert history_of(admin_store, AMBERT_ML) == []


def test_form_is_checked_like_an_import_row(admin_client, admin_store):
    before = stored(admin_store, AMBERT_ML)
    for changes, message in [
        ({"type": "bureau"}, "type inconnu"),
        ({"nom": ""}, "nom manquant"),
        ({"courriel": "pas une adresse"}, "courriel"),
        ({"site_web": "javascript:alert(1)"}, "adresse web refusée"),
        ({"code_postal": "99999", "commune": "", "code_insee": "", "latitude": "", "longitude": ""}, "99999"),
        ({"couverture": "63003\n99998"}, "99998"),
    ]:
        r = save(admin_client, EDIT, **changes)
        assert r.status_code == 400, changes
        assert message in text(r), (changes, text(r)[:3000])
    assert stored(admin_store, AMBERT_ML) == before


def test_a_field_emptied_in_the_form_is_emptied(admin_client, admin_store):
    save(admin_client, EDIT, telephone="")
    assert stored(admin_store, AMBERT_ML)["telephone"] is None


def test_hours_in_day_rows_are_stored_as_osm_opening_hours(admin_client, admin_store):
    hours = {f"h-{d}-0-debut": "08:30" for d in range(5)}
    hours.update({f"h-{d}-0-fin": "12:00" for d in range(5)})
    hours.update({f"h-{d}-1-debut": "13:30" for d in (0, 1, 3, 4)})
    hours.update({f"h-{d}-1-fin": "17:00" for d in (0, 1, 3, 4)})
    r = save(admin_client, EDIT, **hours, **{"h-feries": "1"})
    assert r.status_code == 302
    assert stored(admin_store, AMBERT_ML)["horaires_accueil"] == (
        "Mo,Tu,Th,Fr 08:30-12:00,13:30-17:00; We 08:30-12:00; PH off"
    )
    values = form_of(admin_client, EDIT)
    assert values["h-2-0-debut"] == "08:30" and values.get("h-2-1-debut") == ""
    r = save(admin_client, EDIT, **{"h-5-0-debut": "12:00", "h-5-0-fin": "09:00"})
    assert r.status_code == 400 and "la fin (09:00) doit suivre le début (12:00)" in text(r)


def test_hours_outside_the_table_are_edited_as_text(admin_client, admin_store):
    conn = sqlite3.connect(admin_store)
    with conn:
        conn.execute(
            "UPDATE structures SET horaires_accueil = 'Mo-Fr 08:00-18:00 \"sur rendez-vous\"' WHERE id = ?",
            (AMBERT_ML,),
        )
    values = form_of(admin_client, EDIT)
    assert values["horaires_mode"] == "texte"
    assert values["horaires_texte"] == 'Mo-Fr 08:00-18:00 "sur rendez-vous"'
    save(admin_client, EDIT, horaires_texte="Mo-Fr 09:00-17:00")
    assert stored(admin_store, AMBERT_ML)["horaires_accueil"] == "Mo-Fr 09:00-17:00"


def test_dragged_pin_coordinates_are_kept_as_a_manual_position(admin_client, admin_store):
    save(admin_client, EDIT, latitude="45.54700", longitude="3.74200")
    s = stored(admin_store, AMBERT_ML)
    assert (s["latitude"], s["longitude"], s["precision_geocodage"]) == (45.547, 3.742, "manuelle")


def test_coverage_communes_make_the_mission_locale_competent(admin_client, admin_store):
    r = save(admin_client, EDIT, couverture="63003 Ambert\n63430\n")
    assert r.status_code == 302
    conn = connect(admin_store)
    answer = lookup.competent(conn, "63430")
    conn.close()
    assert answer["methode"] == "couverture" and answer["mission_locale"]["id"] == AMBERT_ML
    changes = [c for c in history_of(admin_store, AMBERT_ML) if c["objet"] == "couverture"]
    assert len(changes) == 1 and [r[0] for r in json.loads(changes[0]["apres"])] == ["63003", "63430"]
    assert form_of(admin_client, EDIT)["couverture"].splitlines() == ["63003 Ambert", "63430 Thiers"]


def test_an_antenne_is_attached_to_its_mission_locale(admin_client, admin_store):
    conn = sqlite3.connect(admin_store)
    antenne = conn.execute(
        "SELECT id FROM structures WHERE type = 'antenne_mission_locale' AND parent_id IS NULL"
    ).fetchone()[0]
    conn.close()
    path = f"/admin/structures/{antenne}"
    assert save(admin_client, path, parent_id=THIERS_ML).status_code == 302
    assert stored(admin_store, antenne)["parent_id"] == THIERS_ML
    r = save(admin_client, path, parent_id="nexiste-pas")
    assert r.status_code == 400 and "rattachement inconnue" in text(r)


def test_a_new_structure_is_created_and_a_duplicate_refused(admin_client, admin_store):
    new = "/admin/structures/nouvelle"
    fields = {
        "type": "psad",
        "nom": "Plateforme de suivi du Livradois",
        "adresse": "2 place Charles de Gaulle",
        "code_postal": "63600",
        "commune": "Ambert",
        "statut": "brouillon",
        "courriel": "psad@example.fr",
    }
    r = save(admin_client, new, **fields)
    assert r.status_code == 302
    sid = r.headers["Location"].rsplit("/", 1)[1]
    s = stored(admin_store, sid)
    assert s["code_insee"] == "63003" and s["statut"] == "brouillon" and s["precision_geocodage"] == "commune"
    assert [c["action"] for c in history_of(admin_store, sid)] == ["cree"]
    r = save(admin_client, new, **fields)
    assert r.status_code == 400 and "existe déjà" in text(r)


def test_ambiguous_postcode_asks_for_the_commune(admin_client, admin_store):
    new = "/admin/structures/nouvelle"
    fields = {"type": "cio", "nom": "Point conseil de Cunlhat", "code_postal": "63590", "statut": "publie"}
    r = save(admin_client, new, **fields)
    assert r.status_code == 400
    page = text(r)
    assert "Ce code postal dessert plusieurs communes" in page and 'value="63132"' in page
    r = save(admin_client, new, **fields, choix_commune="63132")
    assert r.status_code == 302
    assert stored(admin_store, r.headers["Location"].rsplit("/", 1)[1])["code_insee"] == "63132"
    r = save(admin_client, new, **{**fields, "nom": "Autre"}, choix_commune="63003")
    assert r.status_code == 400


def test_archive_hides_a_structure_and_restore_brings_it_back(admin_app, admin_client, admin_store):
    public = admin_app.test_client()
    geo = lambda: {f["id"] for f in public.get("/api/v1/structures.geojson").get_json()["features"]}  # noqa: E731
    assert AMBERT_ML in geo()
    r = press(admin_client, EDIT, "archiver")
    assert r.status_code == 302 and stored(admin_store, AMBERT_ML)["statut"] == "archive"
    assert AMBERT_ML not in geo()
    assert "Restaurer" in text(admin_client.get(EDIT))
    assert press(admin_client, EDIT, "restaurer").status_code == 302
    assert stored(admin_store, AMBERT_ML)["statut"] == "publie" and AMBERT_ML in geo()
    labels = text(admin_client.get(EDIT))
    assert "Archivage" in labels and "Publication" in labels


def test_a_form_saved_by_someone_else_meanwhile_is_not_overwritten(admin_client, admin_store):
    values = form_of(admin_client, EDIT)
    conn = sqlite3.connect(admin_store)
    with conn:
        conn.execute(
            "UPDATE structures SET telephone = '04 00 00 00 00', modifie_le = 'autre' WHERE id = ?",
            (AMBERT_ML,),
        )
    values["nom"] = "Nom changé"
    r = post_form(admin_client, EDIT, values, page=EDIT)
    assert r.status_code == 409 and "modifiée par quelqu’un d’autre" in text(r)
    assert stored(admin_store, AMBERT_ML)["nom"] == "Mission locale du Livradois-Forez"


def test_structure_list_finds_every_status(admin_client, admin_store):
    conn = sqlite3.connect(admin_store)
    with conn:
        conn.execute("UPDATE structures SET statut = 'archive' WHERE id = ?", (THIERS_ML,))
    page = text(admin_client.get("/admin/structures?q=thiers&statut=archive"))
    assert "Mission locale du bassin de Thiers" in page and "1 structure" in page
    assert admin_client.get("/admin/structures/nexiste-pas").status_code == 404


@pytest.mark.parametrize(
    "spec",
    [
        "Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00",
        "Mo,We,Fr 08:30-12:00; PH off",
        "Tu-Th 14:00-18:00",
    ],
)
def test_hours_round_trip_through_the_day_rows(spec):
    week = hours_form.parse(spec)
    assert week is not None
    assert hours_form.parse(hours_form.format_week(week)) == week


def test_hours_outside_the_subset_are_not_guessed():
    assert hours_form.parse("24/7") is None
    assert hours_form.parse("Mo-Fr 08:00-09:00,10:00-11:00,12:00-13:00") is None
    assert hours_form.parse("sur rendez-vous") is None
    assert hours_form.parse("Mo-Fr 08:00-12:00; We off").days[2] == []


def test_a_bug_while_saving_is_an_error_not_an_edit_conflict(admin_client, admin_store, monkeypatch):
    from locator.admin import editing

    def broken(*args, **kwargs):
        raise ValueError("bogue")

    monkeypatch.setattr(editing, "save", broken)
    values = form_of(admin_client, EDIT)
    values["nom"] = "Nom changé"
    r = post_form(admin_client, EDIT, values, page=EDIT)
    assert r.status_code == 500 and "modifiée par quelqu’un d’autre" not in text(r)


def test_archiving_an_unknown_structure_is_a_404(admin_client):
    version = status_form(admin_client, EDIT, "archiver")["version"]
    r = post_form(admin_client, "/admin/structures/inconnue-00000/archiver", {"version": version}, page=EDIT)
    assert r.status_code == 404

"""The import wizard over HTTP: upload, preview, row fixes, confirmation, history and exact undo."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from admin_helpers import ADMIN, EDITOR, accounts_file, csrf_token, login, make_app, post_form, text
from import_helpers import content_rows


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need four départements only: the small store (fast tier)."""
    return small_built_store


MESSY = Path(__file__).parent / "data" / "import_desordre.csv"
AMBERT_ML = "mission-locale-du-livradois-forez-63003"
CUNLHAT = "63132"


def dump(db) -> dict[str, list[tuple]]:
    """Every row of the tables an import touches, in a stable order.

    The `version` counter is left out: it moves forward on every write, an undo included, by design.
    """
    conn = sqlite3.connect(db)
    try:
        return {
            table: sorted(content_rows(conn, table), key=repr)
            for table in ("structures", "structures_rtree", "couverture", "structure_refs")
        }
    finally:
        conn.close()


def upload(client, content: bytes | None = None, name="desordre.csv", statut="publie"):
    token = csrf_token(client, "/admin/import")
    data = {"csrf_token": token, "statut": statut}
    if content is not None or name:
        import io

        data["fichier"] = (io.BytesIO(MESSY.read_bytes() if content is None else content), name)
    return client.post("/admin/import", data=data, content_type="multipart/form-data")


def start(client) -> str:
    r = upload(client)
    assert r.status_code == 302, text(r)[-2000:]
    return r.headers["Location"].rsplit("/", 1)[1]


def row_text(page: str, ligne: int) -> str:
    m = re.search(rf'<tr id="ligne-{ligne}".*?</tr>', page, re.S)
    assert m, f"line {ligne} missing"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(0)))


def fix(client, token, ligne, **fields):
    page = f"/admin/import/{token}/lignes/{ligne}"
    form = text(client.get(page))
    values = dict(re.findall(r'<input id="f-[a-z_]+" name="([a-z_]+)" type="text" value="([^"]*)"', form))
    chosen = re.search(r'<option value="([^"]*)" selected>', form)  # the type is a choice list
    values["type"] = chosen.group(1) if chosen else ""
    values.update(fields)
    return post_form(client, page, values, page=page)


def test_preview_says_what_each_row_would_do_and_publishes_nothing(admin_client, admin_store):
    before = dump(admin_store)
    token = start(admin_client)
    page = text(admin_client.get(f"/admin/import/{token}"))
    assert "Rien n’est encore publié" in page
    assert "rejeté" in row_text(page, 2) and "Cunlhat" in row_text(page, 2)  # ambiguous postcode
    assert "mis à jour" in row_text(page, 3) and "04 73 82 99 99" in row_text(page, 3)
    assert "nouveau" in row_text(page, 4) and "inversées" in row_text(page, 4)
    assert "hors de France" in row_text(page, 5)
    assert "type inconnu « bureau »" in row_text(page, 6)
    assert "rejeté" in row_text(page, 8) and "99999" in row_text(page, 8)
    assert dump(admin_store) == before
    features = admin_client.get(f"/admin/import/{token}/carte.json").get_json()["features"]
    lines = {f["properties"]["ligne"]: f for f in features}
    assert lines[4]["geometry"]["coordinates"] == [3.5478, 45.8564]
    assert lines[3]["properties"]["action"] == "mis_a_jour"


def test_html_in_a_row_is_shown_as_text(admin_client):
    token = start(admin_client)
    page = admin_client.get(f"/admin/import/{token}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page and "<b>Association</b>" not in page


def test_fixes_a_field_picks_a_commune_and_moves_a_pin_before_confirming(admin_client, admin_store):
    token = start(admin_client)
    r = fix(admin_client, token, 6, type="cio")
    assert r.status_code == 302
    assert "nouveau" in row_text(text(admin_client.get(f"/admin/import/{token}")), 6)
    r = fix(admin_client, token, 2, choix_commune=CUNLHAT)
    assert r.headers["Location"].endswith("#ligne-2")
    line2 = row_text(text(admin_client.get(f"/admin/import/{token}")), 2)
    assert "nouveau" in line2 and f"({CUNLHAT})" in line2
    csrf = csrf_token(admin_client, f"/admin/import/{token}")
    r = admin_client.post(
        f"/admin/import/{token}/lignes/5/position.json",
        json={"latitude": 45.04361, "longitude": 3.88552},
        headers={"X-CSRFToken": csrf},
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["action"] == "nouveau" and body["structure"]["latitude"] == 45.04361
    assert not any("hors de France" in w for w in body["avertissements"])
    page = text(admin_client.get(f"/admin/import/{token}?voir=corrigees"))
    assert "3 ligne(s) affichée(s)" in page
    r = post_form(admin_client, f"/admin/import/{token}/confirmer", page=f"/admin/import/{token}")
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/imports/")
    conn = sqlite3.connect(admin_store)
    conn.row_factory = sqlite3.Row
    cunlhat = conn.execute("SELECT * FROM structures WHERE nom = 'Permanence de Cunlhat'").fetchone()
    assert cunlhat["code_insee"] == CUNLHAT and cunlhat["parent_id"] == AMBERT_ML
    assert cunlhat["statut"] == "publie"
    relais = conn.execute(
        "SELECT latitude, longitude FROM structures WHERE nom = 'Dispositif relais du Puy'"
    ).fetchone()
    assert tuple(relais) == (45.04361, 3.88552)
    assert (
        conn.execute("SELECT telephone FROM structures WHERE id = ?", (AMBERT_ML,)).fetchone()[0]
        == "+33473829999"
    )
    conn.close()
    with sqlite3.connect(accounts_file(admin_store)) as pending:  # the upload and its plan are forgotten
        for table in ("imports_en_attente", "imports_en_attente_lignes", "imports_en_attente_pages"):
            assert pending.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    pending.close()


def test_a_commune_outside_the_candidates_is_refused(admin_client):
    token = start(admin_client)
    r = fix(admin_client, token, 2, choix_commune="63003")
    assert r.headers["Location"].endswith(f"/admin/import/{token}/lignes/2")
    assert "choisissez une des communes proposées" in text(admin_client.get(r.headers["Location"]))


def test_a_row_still_wrong_after_a_fix_stays_on_its_form(admin_client):
    token = start(admin_client)
    r = fix(admin_client, token, 8, code_postal="99998")
    assert r.headers["Location"].endswith("/lignes/8")
    assert "toujours rejetée" in text(admin_client.get(r.headers["Location"]))


def test_dragging_a_pin_needs_the_csrf_token_and_numbers(admin_client):
    token = start(admin_client)
    url = f"/admin/import/{token}/lignes/5/position.json"
    assert admin_client.post(url, json={"latitude": 45.0, "longitude": 3.9}).status_code == 400
    csrf = csrf_token(admin_client, f"/admin/import/{token}")
    r = admin_client.post(url, json={"latitude": "abc"}, headers={"X-CSRFToken": csrf})
    assert r.status_code == 400 and "erreur" in r.get_json()


def test_history_shows_the_import_and_undo_restores_exactly_the_previous_rows(admin_client, admin_store):
    before = dump(admin_store)
    token = start(admin_client)
    fix(admin_client, token, 2, choix_commune=CUNLHAT)
    fix(admin_client, token, 6, type="cio")
    r = post_form(admin_client, f"/admin/import/{token}/confirmer", page=f"/admin/import/{token}")
    detail = r.headers["Location"]
    import_id = int(detail.rsplit("/", 1)[1])
    after = dump(admin_store)
    assert after != before
    assert len(after["structures"]) == len(before["structures"]) + 5
    history = text(admin_client.get("/admin/historique"))
    assert f"Import n° {import_id}" in history and "desordre.csv" in history and ADMIN[0] in history
    page = text(admin_client.get(detail))
    assert "Téléphone : « 04 73 82 05 88 » → « 04 73 82 99 99 »" in page
    assert page.count("Création") == 5
    r = post_form(admin_client, f"/admin/imports/{import_id}/annuler", {"confirmer": "oui"}, page=detail)
    assert "6 fiches remises dans leur état précédent" in text(admin_client.get(r.headers["Location"]))
    assert dump(admin_store) == before
    page = text(admin_client.get(detail))
    assert "a été annulé" in page and "Annuler cet import" not in page


def test_undo_is_refused_when_a_row_was_edited_since(admin_client, admin_store):
    token = start(admin_client)
    fix(admin_client, token, 6, type="cio")
    r = post_form(admin_client, f"/admin/import/{token}/confirmer", page=f"/admin/import/{token}")
    import_id = int(r.headers["Location"].rsplit("/", 1)[1])
    conn = sqlite3.connect(admin_store)
    with conn:
        conn.execute(
            "UPDATE structures SET telephone = '04 73 00 00 00', modifie_le = 'plus tard' WHERE id = ?",
            (AMBERT_ML,),
        )
    snapshot = dump(admin_store)
    detail = r.headers["Location"]
    r = post_form(admin_client, f"/admin/imports/{import_id}/annuler", {"confirmer": "oui"}, page=detail)
    assert "Annulation impossible" in text(admin_client.get(r.headers["Location"]))
    assert dump(admin_store) == snapshot


def test_store_changed_after_the_preview_is_planned_again(admin_client, admin_store):
    token = start(admin_client)
    conn = sqlite3.connect(admin_store)
    with conn:
        conn.execute("UPDATE structures SET courriel = 'nouveau@ml.fr' WHERE id = ?", (AMBERT_ML,))
    before = dump(admin_store)
    r = post_form(admin_client, f"/admin/import/{token}/confirmer", page=f"/admin/import/{token}")
    assert r.headers["Location"] == f"/admin/import/{token}"
    assert "relancez l’analyse" in text(admin_client.get(r.headers["Location"]))
    assert dump(admin_store) == before
    r = post_form(admin_client, f"/admin/import/{token}/confirmer", page=f"/admin/import/{token}")
    assert r.headers["Location"].startswith("/admin/imports/")


def test_a_second_click_arriving_after_the_import_is_led_to_it_not_to_a_404(admin_app, admin_client):
    # A double click on a busy server: the second confirmation arrives once the first has imported and
    # forgotten the upload. It used to get a 404; it goes to the import, as when both arrive together.
    token = start(admin_client)
    form = {"csrf_token": csrf_token(admin_client, f"/admin/import/{token}")}  # the page both clicks left
    first = admin_client.post(f"/admin/import/{token}/confirmer", data=form)
    assert first.status_code == 302 and first.headers["Location"].startswith("/admin/imports/")
    second = admin_client.post(f"/admin/import/{token}/confirmer", data=form)
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert "déjà été confirmé" in text(admin_client.get(second.headers["Location"]))
    editor = admin_app.test_client()  # someone else's upload stays a 404
    login(editor, *EDITOR)
    assert post_form(editor, f"/admin/import/{token}/confirmer").status_code == 404


def test_an_upload_belongs_to_the_account_that_made_it(admin_app, admin_client):
    token = start(admin_client)
    editor = admin_app.test_client()
    login(editor, *EDITOR)
    assert editor.get(f"/admin/import/{token}").status_code == 404
    assert post_form(editor, f"/admin/import/{token}/confirmer").status_code == 404
    assert admin_client.get("/admin/import/pas-un-jeton").status_code == 404


def test_abandoning_forgets_the_upload(admin_client, admin_store):
    before = dump(admin_store)
    token = start(admin_client)
    r = post_form(admin_client, f"/admin/import/{token}/abandonner", page=f"/admin/import/{token}")
    assert r.headers["Location"] == "/admin/import"
    assert admin_client.get(f"/admin/import/{token}").status_code == 404
    assert dump(admin_store) == before


def test_new_rows_can_wait_as_drafts(admin_client, admin_store):
    r = upload(admin_client, statut="brouillon")
    token = r.headers["Location"].rsplit("/", 1)[1]
    post_form(admin_client, f"/admin/import/{token}/confirmer", page=f"/admin/import/{token}")
    conn = sqlite3.connect(admin_store)
    assert (
        conn.execute(
            "SELECT statut FROM structures WHERE nom = 'Point information jeunesse de Thiers'"
        ).fetchone()[0]
        == "brouillon"
    )


def test_files_the_pipeline_refuses_come_back_with_its_french_reason(admin_client, admin_store):
    before = dump(admin_store)
    r = upload(admin_client, b"nom;ville\nX;Thiers\n", name="incomplet.csv")
    assert r.status_code == 400 and "Colonnes obligatoires absentes" in text(r)
    r = upload(admin_client, b"\x00\x01\x02PK\x03\x04" * 100, name="classeur.xlsx")
    assert r.status_code == 400
    r = upload(admin_client, b"type;nom;code_insee\nbureau;X;00000\n", name="rien.csv")
    assert r.status_code == 302  # planned: every row rejected, the preview says so
    page = text(admin_client.get(r.headers["Location"]))
    assert "Aucune ligne valide" in page and "Confirmer l'import" not in page
    assert dump(admin_store) == before


def test_the_size_limit_is_the_import_one(admin_store):
    app = make_app(admin_store, IMPORT_MAX_BYTES=200)
    client = app.test_client()
    login(client, *ADMIN)
    r = upload(client)
    assert r.status_code == 413 and "dépasse" in text(r)


def test_an_upload_without_a_file_is_asked_again(admin_client):
    r = upload(admin_client, name="")
    assert r.status_code == 400 and "Choisissez un fichier CSV." in text(r)


def test_an_annuaire_upload_is_refused_from_its_first_bytes(admin_client, admin_store):
    import gzip

    before = dump(admin_store)
    bomb = gzip.compress(b'{"service":[' + b" " * 5_000_000 + b"]}", 9)
    r = upload(admin_client, bomb, name="annuaire.json.gz")
    assert r.status_code == 400
    assert "n’est pas un tableau de structures (il ressemble à l’annuaire DILA" in text(r)
    r = upload(admin_client, b'{"service":[' + b"[" * 50_000, name="profond.json")
    assert r.status_code == 400 and "n’est pas un tableau de structures" in text(r)
    assert dump(admin_store) == before


def test_the_wizard_takes_smaller_files_than_the_command_line(admin_store):
    app = make_app(admin_store, WIZARD_MAX_BYTES=300)
    client = app.test_client()
    login(client, *ADMIN)
    r = upload(client)
    assert r.status_code == 413 and "dépasse" in text(r)


def test_pending_uploads_are_capped_per_account(admin_store):
    client = make_app(admin_store, WIZARD_PENDING_PER_USER=1).test_client()
    login(client, *ADMIN)
    first = upload(client)
    assert first.status_code == 302
    r = upload(client)
    assert r.status_code == 429 and "Vous avez déjà 1 import en attente" in text(r)
    assert first.headers["Location"].rsplit("/", 1)[1] in text(r)  # a link back to the waiting one


def test_pending_uploads_are_capped_on_the_whole_site(admin_store):
    app = make_app(admin_store, WIZARD_PENDING_TOTAL=1)
    admin, editor = app.test_client(), app.test_client()
    login(admin, *ADMIN)
    login(editor, *EDITOR)
    assert upload(admin).status_code == 302
    r = upload(editor)
    assert r.status_code == 503 and "Trop d’imports attendent une confirmation" in text(r)


def test_the_pending_plan_is_stored_compressed(admin_client, admin_store):
    import json
    import zlib

    start(admin_client)
    conn = sqlite3.connect(accounts_file(admin_store))  # the wizard's uploads wait in the accounts file
    kind, packed = conn.execute("SELECT typeof(lignes), lignes FROM imports_en_attente_pages").fetchone()
    conn.close()
    assert kind == "blob"
    plain = json.dumps(json.loads(zlib.decompress(packed)), ensure_ascii=False)
    assert len(packed) * 3 < len(plain)


def many_rows(rejected: int, valid: int = 1, fix_at: int | None = None) -> bytes:
    """A CSV of `rejected` rows of an unknown type (each its own name) and `valid` CIO rows of Thiers."""
    lines = ["type;nom;code_postal;commune"]
    lines += [f"bureau;Bureau de test {n};63300;Thiers" for n in range(rejected)]
    lines += [f"cio;CIO de test {n};63300;Thiers" for n in range(valid)]
    return ("\n".join(lines) + "\n").encode()


def test_the_map_sends_a_bounded_number_of_rows_and_those_in_view(admin_store):
    client = make_app(admin_store, WIZARD_MAP_POINTS=2).test_client()
    login(client, *ADMIN)
    token = upload(client).headers["Location"].rsplit("/", 1)[1]
    body = client.get(f"/admin/import/{token}/carte.json").get_json()
    assert len(body["features"]) == 2 and body["limite"] == 2 and body["total"] > 2
    thiers = client.get(f"/admin/import/{token}/carte.json?bbox=3.50,45.80,3.60,45.90").get_json()
    assert [f["properties"]["ligne"] for f in thiers["features"]] == [4] and thiers["total"] == 1
    bad = client.get(f"/admin/import/{token}/carte.json?bbox=3.5,nan,3.6,45.9")
    assert bad.status_code == 400 and "bbox" in bad.get_json()["erreur"]
    assert "la carte en montre 2 à la fois" in text(client.get(f"/admin/import/{token}"))


def test_a_plan_of_several_pages_is_listed_fixed_and_confirmed_a_page_at_a_time(admin_client, admin_store):
    from locator.store.pending import PAGE_ROWS

    r = upload(admin_client, many_rows(2 * PAGE_ROWS + 40, valid=3), name="grand.csv")
    token = r.headers["Location"].rsplit("/", 1)[1]
    with sqlite3.connect(accounts_file(admin_store)) as pending:  # kept a page at a time
        assert pending.execute("SELECT COUNT(*) FROM imports_en_attente_pages").fetchone()[0] == 3
    pending.close()
    page = text(admin_client.get(f"/admin/import/{token}?voir=rejete&page=3"))
    # Lines 202 to 301 are rows 201 to 300: the third page of 100 rows.
    assert "page 3 sur 5" in page and 'id="ligne-201"' not in page and 'id="ligne-302"' not in page
    assert "Bureau de test 200" in row_text(page, 202) and "Bureau de test 299" in row_text(page, 301)
    last = 2 * PAGE_ROWS + 40 + 1  # the last rejected row, on the plan's last page
    r = fix(admin_client, token, last, type="cio")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"#ligne-{last}")
    page = text(admin_client.get(f"/admin/import/{token}?voir=corrigees"))
    assert "1 ligne(s) affichée(s)" in page and "nouveau" in row_text(page, last)
    r = post_form(admin_client, f"/admin/import/{token}/confirmer", page=f"/admin/import/{token}")
    assert r.headers["Location"].startswith("/admin/imports/")
    conn = sqlite3.connect(admin_store)
    names = {n for (n,) in conn.execute("SELECT nom FROM structures WHERE nom LIKE '% de test %'")}
    conn.close()
    assert names == {"CIO de test 0", "CIO de test 1", "CIO de test 2", f"Bureau de test {last - 2}"}
    with sqlite3.connect(accounts_file(admin_store)) as pending:
        for table in ("imports_en_attente", "imports_en_attente_lignes", "imports_en_attente_pages"):
            assert pending.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    pending.close()


def test_an_import_report_lists_a_thousand_rejected_rows_and_counts_the_others(admin_client, admin_store):
    r = upload(admin_client, many_rows(1050), name="beaucoup.csv")
    token = r.headers["Location"].rsplit("/", 1)[1]
    r = post_form(admin_client, f"/admin/import/{token}/confirmer", page=f"/admin/import/{token}")
    detail = r.headers["Location"]
    assert "1 050 lignes rejetées non importées" in text(admin_client.get(detail))
    conn = sqlite3.connect(admin_store)
    rejetes, rapport = conn.execute(
        "SELECT rejetes, rapport FROM imports ORDER BY id DESC LIMIT 1"
    ).fetchone()
    conn.close()
    import json

    rapport = json.loads(rapport)
    assert rejetes == 1050 and len(rapport["rejetes"]) == 1000 and rapport["rejetes_non_listes"] == 50
    assert "… et 50 autres lignes rejetées, non listées ici" in text(admin_client.get(detail))


def test_a_fix_or_an_abandon_gives_the_space_of_the_old_plan_back(admin_client, admin_store):
    token = upload(admin_client, many_rows(1500), name="moyen.csv").headers["Location"].rsplit("/", 1)[1]
    fix(admin_client, token, 2, type="cio")  # the plan written again: the old one is swept
    with sqlite3.connect(accounts_file(admin_store)) as pending:
        versions = pending.execute("SELECT COUNT(DISTINCT version) FROM imports_en_attente_pages").fetchone()
        assert versions[0] == 1 and pending.execute("PRAGMA freelist_count").fetchone()[0] == 0
    pending.close()
    post_form(admin_client, f"/admin/import/{token}/abandonner", page=f"/admin/import/{token}")
    with sqlite3.connect(accounts_file(admin_store)) as pending:
        assert pending.execute("SELECT COUNT(*) FROM imports_en_attente_lignes").fetchone()[0] == 0
        assert pending.execute("PRAGMA freelist_count").fetchone()[0] == 0
    pending.close()

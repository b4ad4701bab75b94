"""Row checks of `locator import` and the wizard: home région, antennes' parents, French type labels."""

from __future__ import annotations

import io
import re

from admin_helpers import csrf_token, text
from import_helpers import DATA, by_name, rejected, run_import, warnings

OUTSIDE = DATA / "hors_region.csv"
LABELS = DATA / "libelles_types.csv"


def test_rows_outside_the_home_region_are_refused_with_the_reason(store_copy):
    code, report, _ = run_import(store_copy, OUTSIDE)
    assert code == 0 and report["crees"] == 1
    bad = rejected(report)
    assert "Marseille" in bad[2] and "Provence-Alpes-Côte d'Azur" in bad[2]
    assert "hors de la région Auvergne-Rhône-Alpes" in bad[2] and "l’option --hors-region" in bad[2]
    assert "Dijon (21231)" in bad[4] and "Bourgogne-Franche-Comté" in bad[4]
    assert by_name(store_copy, "Antenne Marseille Centre") is None
    assert by_name(store_copy, "Permanence de Thiers centre")["code_insee"] == "63430"


def test_hors_region_keeps_those_rows_with_a_warning(store_copy):
    code, report, _ = run_import(store_copy, OUTSIDE, "--hors-region")
    assert code == 0 and report["crees"] == 3 and report["rejetes"] == []
    notes = warnings(report)
    assert "hors de la région Auvergne-Rhône-Alpes : gardée" in notes[2]
    assert "Bourgogne-Franche-Comté" in notes[4]
    assert by_name(store_copy, "Antenne Marseille Centre")["departement"] == "13"


def test_french_type_labels_are_read_as_types(store_copy):
    code, report, _ = run_import(store_copy, LABELS)
    assert code == 0
    assert list(rejected(report)) == [14]
    assert "type inconnu « bureau »" in rejected(report)[14]
    expected = {
        "Antenne de Courpière centre": "antenne_mission_locale",
        "Permanence de Saint-Flour haute ville": "antenne_mission_locale",
        "Centre d'orientation des Combrailles": "cio",
        "Plateforme décrochage du Livradois": "psad",
        "Plateforme décrochage de la Planèze": "psad",
        "École de la 2e chance du Roannais test": "e2c",
        "Site E2C de Montbrison": "e2c",
        "Centre EPIDE des Volcans": "epide",
        "MLDS du bassin de Vichy": "mlds",
        "Mission locale test des Combrailles": "mission_locale",
        "Mission locale test du Haut-Allier": "mission_locale",
        "CIO test de Langeac": "cio",
    }
    assert {nom: by_name(store_copy, nom)["type"] for nom in expected} == expected


def test_a_loosely_written_parent_is_attached_and_a_missing_one_is_told_its_departements_nearest(store_copy):
    _code, report, _ = run_import(store_copy, LABELS)
    notes = warnings(report)
    assert (
        "« Mission locale du Livradois Forest » lue comme « Mission locale du Livradois-Forez »" in notes[2]
    )
    courpiere = by_name(store_copy, "Antenne de Courpière centre")
    assert courpiere["parent_id"] == "mission-locale-du-livradois-forez-63003"
    # Saint-Flour (Cantal): the Cantal's two Missions locales, nearest first, then the nearest elsewhere.
    assert "antenne sans Mission locale de rattachement" in notes[3]
    suggested = re.findall(r"« ([^»]+) » à ([0-9,]+ k?m)", notes[3].split("les plus proches")[1])
    assert [nom for nom, _d in suggested[:2]] == [
        "Mission locale des Hautes Terres et du Nord-Ouest Cantal",
        "Mission locale de l'arrondissement d'Aurillac",
    ]
    assert len(suggested) == 3
    assert 4 not in notes  # a CIO needs no parent


def _upload(client, path, **form):
    data = {"csrf_token": csrf_token(client, "/admin/import"), "statut": "publie", **form}
    data["fichier"] = (io.BytesIO(path.read_bytes()), path.name)
    r = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert r.status_code == 302, text(r)[-2000:]
    return r.headers["Location"].rsplit("/", 1)[1]


def test_wizard_refuses_rows_outside_the_region_unless_its_box_is_ticked(admin_client):
    page = text(admin_client.get("/admin/import"))
    assert 'name="hors_region"' in page and "Accepter les structures hors région" in page
    token = _upload(admin_client, OUTSIDE)
    preview = text(admin_client.get(f"/admin/import/{token}"))
    assert "hors de la région Auvergne-Rhône-Alpes : refusée" in preview
    # What the admin can do on the page, never a command-line option.
    assert "envoyez de nouveau le fichier en cochant « Accepter les structures hors région »" in preview
    assert "--hors-region" not in preview
    token = _upload(admin_client, OUTSIDE, hors_region="oui")
    preview = text(admin_client.get(f"/admin/import/{token}"))
    assert "hors de la région Auvergne-Rhône-Alpes : gardée" in preview
    assert "refusée" not in preview


def test_wizard_row_form_offers_the_types_as_a_choice_list(admin_client):
    token = _upload(admin_client, LABELS)
    form = text(admin_client.get(f"/admin/import/{token}/lignes/14"))  # « bureau »: unknown
    select = re.search(r'<select id="f-type" name="type"[^>]*>(.*?)</select>', form, re.S)
    assert select, "the type is a <select>"
    options = re.findall(r'<option value="([^"]*)"', select.group(1))
    assert options[0] == "" and "antenne_mission_locale" in options and "epide" in options
    assert 'name="type" type="text"' not in form
    form = text(admin_client.get(f"/admin/import/{token}/lignes/2"))  # « Antenne »: preselected
    assert re.search(r'<option value="antenne_mission_locale" selected>', form)
    page = f"/admin/import/{token}/lignes/14"
    data = {"csrf_token": csrf_token(admin_client, page), "type": "cio"}
    r = admin_client.post(page, data=data)
    assert r.status_code == 302
    preview = text(admin_client.get(f"/admin/import/{token}"))
    row = re.search(r'<tr id="ligne-14".*?</tr>', preview, re.S).group(0)
    assert "nouveau" in row

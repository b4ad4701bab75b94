"""Every page reads as French is written: real plurals, the apostrophe ’, a narrow space before : ; ! ?"""

from __future__ import annotations

import pytest
from admin_helpers import post_form
from french_text import faults

AMBERT_ML = "mission-locale-du-livradois-forez-63003"

PUBLIC_PAGES = [
    "/",
    "/recherche?q=Ambert",
    "/recherche?q=Thiers",
    "/recherche?q=Lyon+3e",
    "/recherche?q=63600",
    "/recherche?q=Cournon-d%27Auvergne",
    "/recherche?q=Saint",
    "/recherche?q=Marseille",
    "/recherche?q=zzzzqqq",
    "/recherche?q=45.7772%2C3.087",
    "/communes/63003",
    "/communes/43157",
    "/departements/63",
    "/territoires",
    f"/structures/{AMBERT_ML}",
    f"/structures/{AMBERT_ML}/signaler",
    "/page/qui/nexiste/pas",
]

ADMIN_PAGES = [
    "/admin/",
    "/admin/structures",
    f"/admin/structures/{AMBERT_ML}",
    "/admin/structures/nouvelle",
    "/admin/historique",
    "/admin/import",
    "/admin/qualite",
    "/admin/signalements",
    "/admin/comptes",
    "/admin/mon-compte",
]


@pytest.fixture(scope="module")
def built_store(small_built_store):
    """Four départements are enough to show every kind of answer."""
    return small_built_store


def _readable(page: str, html: str) -> None:
    found = faults(html)
    assert not found, f"{page} :\n" + "\n".join(f"  {rule} : « {where} »" for rule, where in found)


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_public_pages_have_real_plurals_one_apostrophe_and_spaced_punctuation(client, page):
    response = client.get(page)
    assert response.status_code in (200, 404)
    _readable(page, response.get_data(as_text=True))


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_admin_pages_have_real_plurals_one_apostrophe_and_spaced_punctuation(admin_client, page):
    response = admin_client.get(page)
    assert response.status_code == 200, page
    _readable(page, response.get_data(as_text=True))


def test_a_report_form_sent_empty_comes_back_readable(client):
    page = f"/structures/{AMBERT_ML}/signaler"
    response = post_form(client, page, {"message": ""}, page=page)
    assert response.status_code in (200, 400)
    _readable(page, response.get_data(as_text=True))


def test_the_fault_finder_sees_each_fault_it_looks_for():
    html = '<p>1 ligne(s) lue(s)</p><p title="l\'aide">ok</p><p>Source : x</p><script>a ? b : c</script>'
    rules = [rule for rule, _ in faults(html)]
    assert rules == ["pluriel en (s)", "pluriel en (s)", "apostrophe droite", "espace avant : ; ! ?"]


def test_a_stored_name_reads_with_its_apostrophe_but_a_form_sends_it_back_as_stored(admin_client):
    page = admin_client.get("/admin/structures/cio-d-yssingeaux-43268").get_data(as_text=True)
    assert "CIO d’Yssingeaux" in page  # what the admin reads
    assert 'value="CIO d&#39;Yssingeaux"' in page  # what the form would save: unchanged

"""The printout of a commune's answer: one A4 page a counsellor can hand over."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from locator.testing import serve_in_background
from tests.browser.conftest import AMBERT_HOURS, AMBERT_ML, map_ready

PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def _pages(pdf: bytes) -> int:
    return len(PAGE_OBJECT.findall(pdf))


@pytest.mark.parametrize("query", ["Ambert", "Lyon 3e", "Thiers", "Grenoble"])
def test_a_communes_answer_prints_on_one_a4_page(site, desktop, query):
    page, _watch = desktop
    page.goto(f"{site}/recherche?q={query}")
    map_ready(page)
    assert page.get_by_role("button", name="Imprimer cette réponse").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) == 1


def test_the_printout_keeps_the_answer_and_drops_urls_and_the_rest(site, desktop):
    page, _watch = desktop
    page.goto(f"{site}/recherche?q=Ambert")
    map_ready(page)
    page.emulate_media(media="print")
    printed = page.locator("main").inner_text()
    assert "Votre Mission locale" in printed
    assert "Appeler le 04 73 82 05 88" in printed
    assert "Horaires d’accueil" in printed and AMBERT_HOURS  # the Mission locale's hours are known here
    assert "Le CIO le plus proche" in printed and "La PSAD la plus proche" in printed
    assert "Information du" in printed or "Information de" in printed
    assert "http" not in printed and "Itinéraire" not in printed
    assert page.locator(".bloc-plus").is_hidden()
    # no link prints its address after its words
    after = page.evaluate(
        "[...document.querySelectorAll('main a')].map(a => getComputedStyle(a, '::after').content)"
        ".filter(c => c && c !== 'none' && c !== 'normal')"
    )
    assert after == []


def test_the_anti_spam_field_is_neither_seen_nor_printed(site, desktop):
    page, _watch = desktop
    page.goto(f"{site}/structures/{AMBERT_ML}")
    trap = page.locator("#signaler-site")
    box = trap.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0  # off screen: people never see it
    assert page.locator(".signaler-piege").get_attribute("aria-hidden") == "true"
    page.emulate_media(media="print")
    assert trap.is_hidden()
    assert "Ne remplissez pas" not in page.locator("body").inner_text()


PUBLIC_URL = "https://annuaire.exemple.fr/decrochage"


@pytest.fixture(scope="module")
def public_site(browser_store, tile_server):
    """A server that knows its public address (PUBLIC_URL): its printouts carry a QR code."""
    env = {"LOCATOR_TILE_URL": tile_server.url, "LOCATOR_PUBLIC_URL": PUBLIC_URL}
    with serve_in_background(browser_store, env=env) as base:
        yield base


def _read_qr(page) -> list[str]:
    """Decode the QR codes of the printout's QR block, from a screenshot of it."""
    shot = page.locator("[data-qr] svg").screenshot()
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/recherche?q=Ambert", "/recherche?q=Ambert"),
        (
            "/recherche?q=Lyon+3e&commune=69383&types=cio&types=mission_locale",
            "/recherche?q=Lyon+3e&commune=69383&types=cio&types=mission_locale",
        ),
        ("/communes/63430", "/communes/63430"),
    ],
)
def test_the_printout_carries_a_qr_code_to_the_answers_public_page(public_site, desktop, path, expected):
    page, watch = desktop
    page.goto(public_site + path + ("&" if "?" in path else "?") + "utm_source=affiche")
    map_ready(page)
    assert page.locator("[data-qr]").is_hidden()  # on screen the page is already there: no code
    page.emulate_media(media="print")
    assert _read_qr(page) == [PUBLIC_URL + expected]  # the answer's arguments only, at the public address
    assert _pages(page.pdf(format="A4")) == 1
    assert watch.csp == [] and watch.errors == []  # inline SVG markup: nothing the CSP refuses


def test_without_a_public_address_no_qr_code_is_printed(site, desktop):
    page, _watch = desktop
    page.goto(f"{site}/recherche?q=Ambert")
    assert page.locator("[data-qr]").count() == 0


@pytest.mark.parametrize("query", ["Annecy", "Thiers", "Brioude"])
def test_the_printout_has_no_jargon_and_no_a_verifier_but_keeps_the_date(site, desktop, query):
    page, _watch = desktop
    page.goto(f"{site}/recherche?q={query}")
    map_ready(page)
    assert "à vérifier" in page.locator("main").inner_text()  # on screen the counsellor is warned
    page.emulate_media(media="print")
    printed = page.locator("main").inner_text()
    assert "à vérifier" not in printed
    assert re.search(r"Information (du|de) ", printed)  # the date stays
    for jargon in (
        "liste officielle",
        "communes couvertes",
        "territoire probable",
        "lieu principal",
        "parmi ",
    ):
        assert jargon not in printed, jargon
    assert "PSAD de Brioude" not in printed or query == "Brioude"  # no far platform handed over
    assert _pages(page.pdf(format="A4")) == 1

"""The printout of a commune's answer: one A4 page a counsellor can hand over."""

from __future__ import annotations

import re

import pytest

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

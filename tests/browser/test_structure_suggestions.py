"""The search box suggests structures by name, under their own heading, and leads to their page."""

from __future__ import annotations

import re

from tests.browser.conftest import run_axe, suggestions_for

BOX = "Commune, code postal, département ou nom d’une structure"


def test_typing_a_structure_name_suggests_it_under_structures_and_opens_its_page(site, desktop):
    page, watch = desktop
    page.goto(site + "/")
    box = page.get_by_role("combobox", name=BOX)
    box.press_sequentially("CIO Vichy", delay=30)
    suggestions_for(page, "CIO Vichy")  # not a list for a shorter text, replaced while we read it
    group = page.get_by_role("group", name="Structures")
    group.get_by_role("option").first.wait_for()
    assert "CIO de Vichy" in group.get_by_role("option").first.inner_text()
    assert page.get_by_role("group", name="Lieux").get_by_role("option").first.is_visible()  # Vichy, the town
    assert run_axe(page) == []
    # the structure comes after the places: arrow down to it, Enter opens its page
    options = page.get_by_role("listbox").get_by_role("option")
    index = [options.nth(i).inner_text() for i in range(options.count())].index(
        group.get_by_role("option").first.inner_text()
    )
    for _ in range(index + 1):
        box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/structures/cio-de-vichy-03095$"))
    assert page.locator("h1").inner_text().endswith("CIO de Vichy")
    assert watch.errors == []

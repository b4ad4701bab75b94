"""Issue 19 item 6: /api/v1/docs in chromium — the viewer the app serves renders every endpoint of the
OpenAPI document, under the site's CSP, with no request leaving 127.0.0.1; /api/v1/ reads as a page."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import run_axe


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_docs_page_renders_every_endpoint_with_no_csp_violation_and_nothing_from_outside(
    site, request, viewport
):
    page, watch = request.getfixturevalue(viewport)
    paths = list(requests.get(f"{site}/api/v1/openapi.json", timeout=60).json()["paths"])
    page.goto(f"{site}/api/v1/docs")
    page.wait_for_selector("#api-docs[data-pret]")
    rendered = page.locator("#api-docs .opblock-summary-path")
    expect(rendered).to_have_count(len(paths))
    assert [t.replace("\u200b", "") for t in rendered.all_inner_texts()] == paths
    # One endpoint opened: its parameters are there to read.
    page.locator("#api-docs .opblock-summary-path", has_text="/api/v1/structures").first.click()
    expect(page.locator("#api-docs .parameters-col_name").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert watch.csp == []
    assert watch.outside == []
    assert watch.errors == []


def test_the_footer_leads_to_the_docs_and_the_endpoint_list_reads_as_a_page(site, desktop):
    page, watch = desktop
    page.goto(f"{site}/")
    page.locator(".site-pied").get_by_role("link", name="Les mêmes données en accès libre (API)").click()
    page.wait_for_url("**/api/v1/docs")
    page.get_by_role("link", name="La liste courte des adresses").click()
    page.wait_for_url("**/api/v1/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Les mêmes données en accès libre (API)")
    expect(page.locator("table.tableau-api tbody tr")).to_have_count(
        len(requests.get(f"{site}/api/v1/openapi.json", timeout=60).json()["paths"])
    )
    assert run_axe(page) == []
    assert watch.csp == [] and watch.outside == [] and watch.errors == []

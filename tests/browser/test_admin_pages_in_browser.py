"""Every admin page and the « Signaler une erreur » form, in chromium at 1280 px and 390 px: nothing wider
than the screen, 44 px targets, words instead of codes, the quality page's counts first."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from locator.admin import accounts
from locator.cli import main
from locator.store import authdb
from locator.testing import serve_in_background
from tests.browser.conftest import DESKTOP, PHONE, open_context, run_axe

DATA = Path(__file__).resolve().parents[1] / "data"
EMAIL, PASSWORD = "admin@example.fr", "un-mot-de-passe-admin-solide"
AMBERT_ML = "mission-locale-du-livradois-forez-63003"
VIEWPORTS = {"bureau": DESKTOP, "telephone": PHONE}
# A source address with no place to break: the kind of value that used to widen the history tables.
LONG_SOURCE = "https://www.example.fr/" + "annuaire-des-structures-" * 8 + "fiche.html"


@pytest.fixture(scope="module")
def built_store(small_built_store):
    return small_built_store


@pytest.fixture(scope="module")
def admin_site(small_built_store, tmp_path_factory, tile_server):
    """A real server on a store with an admin, two imports by the CLI, an edit by hand and a report."""
    db = tmp_path_factory.mktemp("admin-pages") / "locator.sqlite"
    shutil.copyfile(small_built_store, db)
    accounts.add_user(authdb.location(db), EMAIL, "admin", PASSWORD)
    for name in ("permanences_cp1252.csv", "hors_region.csv"):
        result = CliRunner().invoke(main, ["import", str(DATA / name), "--db", str(db)])
        assert result.exit_code == 0, result.output
    with serve_in_background(db, env={"LOCATOR_TILE_URL": tile_server.url}) as base:
        yield base


def _logged_in(browser, base, viewport):
    context, watch = open_context(
        browser, viewport=viewport, **({"is_mobile": True, "has_touch": True} if viewport == PHONE else {})
    )
    page = context.new_page()
    page.goto(base + "/admin/login")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/admin/")
    return context, page


def _edit_by_hand(page, base):
    """Save the Ambert Mission locale with a long source address: the history gets a wide value."""
    page.goto(f"{base}/admin/structures/{AMBERT_ML}")
    page.fill("#f-source", LONG_SOURCE)
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector(".admin-messages .message")  # « Fiche enregistrée. » (or « Aucun changement. »)


def _wizard_pages(page, base) -> list[str]:
    """Upload the messy file: return the wizard's preview and one row's correction page."""
    page.goto(base + "/admin/import")
    page.set_input_files("#fichier", str(DATA / "import_desordre.csv"))
    page.get_by_role("button", name="Analyser le fichier").click()
    page.wait_for_url(re.compile(r".*/admin/import/[^/]+$"))
    preview = page.url
    row = page.locator("#lignes a[href*='/lignes/']").first.get_attribute("href")
    return [preview, base + row]


# What a finger taps: buttons, fields, choice lists, the admin menu (the map's own controls aside).
TARGETS = (
    "main button, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main select, "
    "main textarea, .admin-nav a, .admin-nav button"
)


def _measure(page) -> dict:
    """Widths of the page, and the buttons and fields smaller than a 44 px target."""
    return page.evaluate(
        """(targets) => {
            const small = [...document.querySelectorAll(targets)]
              .filter(e => { const r = e.getBoundingClientRect();
                             const seen = r.width > 0 && r.height > 0;
                             const ours = !e.closest('.signaler-piege, .leaflet-container');
                             return seen && ours && r.height < 44; })
              .map(e => e.outerHTML.slice(0, 100));
            return {scroll: document.scrollingElement.scrollWidth, width: innerWidth,
                    height: document.scrollingElement.scrollHeight, small};
        }""",
        TARGETS,
    )


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_no_admin_page_is_wider_than_the_screen_and_every_target_is_44_px(browser, admin_site, screen):
    base = admin_site
    context, page = _logged_in(browser, base, VIEWPORTS[screen])
    _edit_by_hand(page, base)
    pages = [
        "/admin/",
        "/admin/structures",
        f"/admin/structures/{AMBERT_ML}",
        "/admin/structures/nouvelle",
        "/admin/historique",
        "/admin/imports/1",
        "/admin/imports/2",
        "/admin/import",
        *_wizard_pages(page, base),
        "/admin/qualite",
        "/admin/signalements",
        "/admin/comptes",
        "/admin/mon-compte",
        f"/structures/{AMBERT_ML}/signaler",
    ]
    wide, small, axe = {}, {}, {}
    for path in pages:
        page.goto(path if path.startswith("http") else base + path)
        found = _measure(page)
        if found["scroll"] > found["width"]:
            wide[path] = found["scroll"]
        if found["small"]:
            small[path] = found["small"][:3]
        if screen == "telephone" and (violations := run_axe(page)):
            axe[path] = violations
    context.close()
    assert wide == {}, f"pages wider than {VIEWPORTS[screen]['width']} px"
    assert small == {}, "buttons or fields under 44 px"
    assert axe == {}, "serious or critical WCAG 2.1 AA violations"


def test_types_statuses_and_fields_are_words_and_insee_codes_say_so(browser, admin_site):
    base = admin_site
    context, page = _logged_in(browser, base, DESKTOP)
    page.goto(base + "/admin/structures?q=Livradois")
    table = page.locator("table.admin-table").inner_text()
    assert "Mission locale" in table and "Publiée" in table
    assert "mission_locale" not in table and "publie" not in table.replace("Publiée", "")
    assert page.locator("th:has-text('Date de mise à jour')").count() == 1
    options = page.locator("#f-type option").all_inner_texts()
    assert "Antenne de Mission locale" in options and "antenne_mission_locale" not in options
    _edit_by_hand(page, base)
    assert page.locator(".admin-nav a[aria-current='page']").all_inner_texts() == ["Structures"]
    history = page.locator("#titre-historique ~ div table").inner_text()
    assert "Source de l’information\u202f:" in history and "Date de mise à jour\u202f:" in history
    assert "date_maj" not in history and "source :" not in history
    page.goto(base + "/admin/qualite")
    page.locator("summary:has-text('Communes absentes des listes officielles')").click()
    commune = page.locator("#controle-sans_liste tbody th").first.inner_text()
    assert re.fullmatch(r".+ \(code INSEE \d[\dAB]\d{3}\)", commune), commune
    page.goto(base + "/admin/comptes")
    assert "Administrateur" in page.locator(".admin-fiche").first.inner_text()
    context.close()


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_quality_page_shows_the_counts_first_and_folds_the_lists(browser, admin_site, screen):
    base = admin_site
    context, page = _logged_in(browser, base, VIEWPORTS[screen])
    page.goto(base + "/admin/qualite")
    summary = page.locator("#resume-qualite")
    assert summary.locator("tbody tr").count() == 8
    first_list = page.locator("details.admin-liste").first
    assert summary.bounding_box()["y"] < first_list.bounding_box()["y"]
    assert page.locator("details.admin-liste[open]").count() == 0
    found = _measure(page)
    # All folded: the summary, the map and eight list titles (it was 17,000 px at 1280 px, 39,000 at 390).
    assert found["height"] < {"bureau": 2500, "telephone": 4000}[screen], found["height"]
    # A count's link opens its list.
    summary.locator("a[href='#controle-sans_liste']").click()
    page.wait_for_selector("#controle-sans_liste[open]")
    assert page.locator("#controle-sans_liste tbody tr").count() == 50
    context.close()


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_report_form_errors_sit_next_to_their_fields_and_the_input_is_kept(browser, admin_site, screen):
    context, watch = open_context(browser, viewport=VIEWPORTS[screen])
    page = context.new_page()
    page.goto(f"{admin_site}/structures/{AMBERT_ML}/signaler")
    page.fill("#signaler-contact", "moi@example.fr")
    page.get_by_role("button", name="Envoyer le signalement").click()
    page.wait_for_selector("#signaler-message-erreur")
    assert page.input_value("#signaler-contact") == "moi@example.fr"
    label = page.locator("label[for='signaler-message']").bounding_box()
    error = page.locator("#signaler-message-erreur").bounding_box()
    field = page.locator("#signaler-message").bounding_box()
    assert label["y"] + label["height"] <= error["y"] + 1 and error["y"] + error["height"] <= field["y"] + 1
    assert page.get_attribute("#signaler-message", "aria-describedby") == "signaler-message-erreur"
    choice = page.locator("#signaler-champ-erreur").bounding_box()
    first_choice = page.locator(".signaler-choix").first.bounding_box()
    assert choice["y"] < first_choice["y"]
    found = _measure(page)
    assert found["scroll"] <= found["width"] and found["small"] == []
    assert field["height"] >= 44 and first_choice["height"] >= 44
    # The same form inside the structure's public page has the same look.
    page.goto(f"{admin_site}/structures/{AMBERT_ML}")
    for target in ("#signaler-contact", "section.signaler button", ".signaler-choix"):
        assert page.locator(target).first.bounding_box()["height"] >= 44, target
    context.close()

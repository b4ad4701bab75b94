"""Opening hours cost a bounded amount of work, and the structure page is cached like the others,
each visitor still getting a report form that works (issue 16, point 3)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from admin_helpers import Clock, make_app, post_form, text
from flask import template_rendered
from import_helpers import rejected, run_import, write

from locator.hours import opening_hours
from locator.hours.opening_hours import HORIZON, TIMEZONE, status
from locator.store import db as store_db
from locator.store import structures as store_structures

AMBERT_ML = "mission-locale-du-livradois-forez-63003"
PAGE = f"/structures/{AMBERT_ML}"
AMBERT_HOURS = "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off"
ROUND_THE_CLOCK = "Mo-Su 00:00-24:00"
# The worst found: each rule is evaluated at every step of the search, which never ends by itself;
# as many rules as a text may hold (opening_hours.MAX_RULES).
MANY_RULES = "; ".join([ROUND_THE_CLOCK] * 16)


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Four départements are enough: the small store (fast tier)."""
    return small_built_store


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TIMEZONE)


# ------------------------------------------------------------------ evaluation


@pytest.mark.parametrize("spec", [ROUND_THE_CLOCK, "24/7", MANY_RULES, "Mo-Su 00:00-24:00; Dec 25 off"])
def test_hours_that_do_not_change_soon_are_said_open_round_the_clock_without_searching_further(spec):
    moment = paris(2026, 3, 10, 10, 0)
    found = status(spec, moment)
    assert found["ouvert"] and found["texte"] == "Ouvert 24 h/24"
    # Nothing was searched beyond the horizon (Christmas is 290 days away), and what is said holds
    # until a change could come within HORIZON.
    assert found["change"] is None
    assert found["expire"] == moment + dt.timedelta(days=opening_hours.SEARCH_DAYS) - HORIZON


def test_a_change_within_the_search_horizon_is_found_and_said_once_near():
    spec = "Mo-Su 00:00-24:00; 2026 Mar 20 off"  # ten days ahead: found, not yet said
    found = status(spec, paris(2026, 3, 10, 10, 0))
    assert found["change"] == paris(2026, 3, 20, 0, 0)
    assert found["texte"] == "Ouvert 24 h/24"
    assert found["expire"] == paris(2026, 3, 20, 0, 0) - HORIZON
    assert status(spec, found["expire"])["texte"] == "Ouvert maintenant, jusqu’à vendredi à 0 h"


def test_a_status_is_evaluated_once_until_what_it_says_changes():
    spec = AMBERT_HOURS + ' "compté"'  # a text of this test alone: the count is this test's
    before = opening_hours.STATUSES.computed
    assert status(spec, paris(2026, 11, 27, 10, 0))["texte"] == "Ouvert maintenant, jusqu’à 12 h"
    assert status(spec, paris(2026, 11, 27, 11, 59))["texte"] == "Ouvert maintenant, jusqu’à 12 h"
    assert opening_hours.STATUSES.computed == before + 1
    assert status(spec, paris(2026, 11, 27, 12, 0))["texte"] == "Fermé — ouvre aujourd’hui à 13 h 30"
    assert opening_hours.STATUSES.computed == before + 2


def test_day_words_of_a_status_change_at_midnight():
    friday_evening = status(AMBERT_HOURS, paris(2026, 11, 27, 20, 0))
    assert friday_evening["texte"] == "Fermé — ouvre demain à 9 h"
    assert friday_evening["expire"] == paris(2026, 11, 28, 0, 0)
    assert status(AMBERT_HOURS, paris(2026, 11, 28, 0, 30))["texte"] == "Fermé — ouvre aujourd’hui à 9 h"


# ------------------------------------------------------------------ input


def test_rule_count_ignores_separators_inside_comments():
    assert opening_hours.rule_count('Mo-Fr 09:00-12:00 "fermé le 1er; et le 8 || mai"; PH off') == 2
    assert opening_hours.complexity_problem(MANY_RULES) is None
    assert "17 règles, 16 au plus" in opening_hours.complexity_problem(MANY_RULES + "; PH off")


def test_an_import_refuses_hours_of_too_many_rules_with_a_french_reason(store_copy, tmp_path):
    too_many = (
        "; ".join(f"Mo 0{h}:00-0{h}:30" for h in range(9))
        + "; "
        + "; ".join(f"Tu 1{h}:00-1{h}:30" for h in range(9))
    )  # 18 rules
    csv = write(
        tmp_path,
        "type;nom;code_insee;horaires\n"
        f'cio;CIO trop d’horaires;63003;"{too_many}"\n'
        f'cio;CIO horaires simples;63003;"{AMBERT_HOURS}"\n',
    )
    code, report, _ = run_import(store_copy, csv)
    assert code == 0 and report["crees"] == 1
    assert "horaires trop complexes (18 règles, 16 au plus)" in rejected(report)[2]


def test_the_admin_form_refuses_hours_of_too_many_rules_with_a_french_reason(admin_client, admin_store):
    edit = f"/admin/structures/{AMBERT_ML}"
    r = post_form(
        admin_client,
        edit,
        _form_values(admin_client, edit)
        | {"horaires_mode": "texte", "horaires_texte": MANY_RULES + "; PH off"},
        page=edit,
    )
    assert r.status_code == 400
    assert "horaires trop complexes (17 règles, 16 au plus)" in text(r)
    with store_db.connect(admin_store) as conn:
        assert store_structures.get(conn, AMBERT_ML)["horaires_accueil"] != MANY_RULES + "; PH off"


def _form_values(client, path) -> dict[str, str]:
    """The structure form's text fields as the page fills them (enough to save it again)."""
    page = client.get(path).get_data(as_text=True)
    form = page[page.index('id="fiche"') :]
    form = form[: form.index("</form>")]
    values = {}
    for tag in re.findall(r"<input[^>]+>", form):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name and name.group(1) != "csrf_token" and not (kind and kind.group(1) in ("checkbox", "radio")):
            values[name.group(1)] = value.group(1) if value else ""
    return values


# ------------------------------------------------------------------ the structure page


@pytest.fixture
def hours_store(store_copy):
    """A store where Ambert's Mission locale opens at AMBERT_HOURS."""
    writer = store_db.writer(store_copy)
    ml = store_structures.get(writer.conn, AMBERT_ML)
    with writer.conn:
        store_structures.upsert(writer, [{**ml, "horaires_accueil": AMBERT_HOURS}], "2026-11-01T00:00:00")
    writer.conn.close()
    return store_copy


def _rendered(app) -> list[str]:
    """Collect the names of the templates the app renders from now on."""
    names: list[str] = []
    template_rendered.connect(lambda _app, template, context: names.append(template.name), app, weak=False)
    return names


def test_the_structure_page_is_served_from_the_cache_on_a_repeat(hours_store):
    app = make_app(hours_store)
    rendered = _rendered(app)
    first = app.test_client().get(PAGE)
    assert first.status_code == 200 and rendered == ["structure.html"]
    again = app.test_client().get(PAGE)
    assert again.status_code == 200 and rendered == ["structure.html"]  # nothing rendered again
    assert "Mission locale du Livradois-Forez" in text(again)


def test_each_visitor_of_the_cached_structure_page_gets_a_report_form_that_works(hours_store):
    app = make_app(hours_store)
    first, second = app.test_client(), app.test_client()
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    first_token = token.search(text(first.get(PAGE))).group(1)
    page = text(second.get(PAGE))  # from the cache
    second_token = token.search(page).group(1)
    assert second_token != first_token and "jeton-csrf-" not in page
    report = {"champ": "horaires", "message": "Fermé le mercredi.", "csrf_token": second_token}
    assert second.post(f"{PAGE}/signaler", data=report).status_code == 200
    stolen = {**report, "csrf_token": first_token}  # another visitor's token is not this one's
    assert second.post(f"{PAGE}/signaler", data=stolen).status_code == 400


def test_the_cached_structure_page_flips_from_open_to_closed_when_the_clock_passes_the_change(hours_store):
    clock = Clock()
    app = make_app(hours_store, CLOCK=clock)
    rendered = _rendered(app)
    client = app.test_client()
    clock.now = paris(2026, 11, 27, 11, 58).timestamp()
    assert "Ouvert maintenant, jusqu’à 12 h" in text(client.get(PAGE))
    clock.now = paris(2026, 11, 27, 11, 59, 59).timestamp()
    assert "Ouvert maintenant, jusqu’à 12 h" in text(client.get(PAGE))
    assert len(rendered) == 1  # still true: served from the cache
    clock.now = paris(2026, 11, 27, 12, 0, 1).timestamp()
    assert "Fermé — ouvre aujourd’hui à 13 h 30" in text(client.get(PAGE))
    clock.now = paris(2026, 11, 27, 20, 0).timestamp()
    assert "Fermé — ouvre demain à 9 h" in text(client.get(PAGE))
    clock.now = paris(2026, 11, 28, 0, 30).timestamp()  # past midnight: "demain" is today now
    assert "Fermé — ouvre aujourd’hui à 9 h" in text(client.get(PAGE))
    assert len(rendered) == 4

"""OSM opening_hours → plain French lines."""

from __future__ import annotations

import pytest

from locator.hours.opening_hours import describe


def test_reads_weekday_ranges_split_days_and_public_holidays():
    assert describe("Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off") == [
        "Du lundi au vendredi : 8 h 30 – 12 h et 13 h 30 – 17 h",
        "Samedi : 9 h – 12 h",
        "Fermé les jours fériés",
    ]


def test_reads_day_lists_closed_days_and_comments():
    assert describe('Mo,We,Fr 14:00-17:00 "sur rendez-vous"; Tu off') == [
        "Lundi, mercredi et vendredi : 14 h – 17 h (sur rendez-vous)",
        "Mardi : fermé",
    ]


def test_reads_every_day_forms():
    assert describe("24/7") == ["Tous les jours : ouvert 24 h sur 24"]
    assert describe("Mo-Su 10:00-18:00") == ["Tous les jours : 10 h – 18 h"]
    assert describe("09:00-12:00") == ["Tous les jours : 9 h – 12 h"]


@pytest.mark.parametrize(
    "spec", ["Jan-Jun Mo 09:00-12:00", "Mo 09:00+", "week 1-53/2 Fr 09:00-12:00", "Lundi 9h"]
)
def test_gives_up_on_what_it_cannot_read_rather_than_misreading(spec):
    assert describe(spec) is None


@pytest.mark.parametrize("spec", [None, "", "  "])
def test_no_hours_is_none(spec):
    assert describe(spec) is None


# Real moments in Paris time: Friday 27 November 2026, and Christmas (a Friday, a public holiday).
AMBERT = "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off"


def _paris(*args):
    import datetime as dt

    from locator.hours.opening_hours import TIMEZONE

    return dt.datetime(*args, tzinfo=TIMEZONE)


@pytest.mark.parametrize(
    ("moment", "ouvert", "texte"),
    [
        ((2026, 11, 27, 10, 0), True, "Ouvert maintenant, jusqu’à 12 h"),
        ((2026, 11, 27, 12, 30), False, "Fermé — ouvre aujourd’hui à 13 h 30"),
        ((2026, 11, 27, 18, 0), False, "Fermé — ouvre demain à 9 h"),
        ((2026, 11, 28, 13, 0), False, "Fermé — ouvre lundi à 8 h 30"),
        ((2026, 12, 25, 10, 0), False, "Fermé — ouvre demain à 9 h"),  # Christmas, a Friday: PH off
    ],
)
def test_says_open_now_or_when_it_opens_in_paris_time(moment, ouvert, texte):
    from locator.hours.opening_hours import status

    found = status(AMBERT, _paris(*moment))
    assert (found["ouvert"], found["texte"]) == (ouvert, texte)


def test_status_reads_the_full_grammar_even_where_lines_are_not_written():
    from locator.hours.opening_hours import status

    spec = "week 1-53/2 Fr 09:00-12:00"  # every other week: no French lines, but a real answer
    assert describe(spec) is None
    assert status(spec, _paris(2026, 11, 27, 10, 0)) is not None


@pytest.mark.parametrize("spec", [None, "", "Lundi 9h", "Mo-Fr 9h-12h"])
def test_no_status_without_valid_hours(spec):
    from locator.hours.opening_hours import status

    assert status(spec) is None


def test_the_admin_form_refuses_text_that_is_not_opening_hours_in_french():
    from locator.hours import form

    with pytest.raises(form.HoursError, match="format OSM opening_hours"):
        form.validate_text("Lundi 9h-12h")
    form.validate_text("week 1-53/2 Fr 09:00-12:00; PH off")  # the full grammar is accepted
    form.validate_text("")

"""OSM opening_hours → plain French lines."""

from __future__ import annotations

import pytest

from locator.hours.opening_hours import describe


def test_reads_weekday_ranges_split_days_and_public_holidays():
    assert describe("Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off") == [
        "Du lundi au vendredi : 8 h 30 – 12 h et 13 h 30 – 17 h",
        "Samedi : 9 h – 12 h",
        "Fermé les jours fériés",
    ]


def test_reads_day_lists_closed_days_and_comments():
    assert describe('Mo,We,Fr 14:00-17:00 "sur rendez-vous"; Tu off') == [
        "Lundi, mercredi et vendredi : 14 h – 17 h (sur rendez-vous)",
        "Mardi : fermé",
    ]


def test_reads_every_day_forms():
    assert describe("24/7") == ["Tous les jours : ouvert 24 h sur 24"]
    assert describe("Mo-Su 10:00-18:00") == ["Tous les jours : 10 h – 18 h"]
    assert describe("09:00-12:00") == ["Tous les jours : 9 h – 12 h"]


@pytest.mark.parametrize(
    "spec", ["Jan-Jun Mo 09:00-12:00", "Mo 09:00+", "week 1-53/2 Fr 09:00-12:00", "Lundi 9h"]
)
def test_gives_up_on_what_it_cannot_read_rather_than_misreading(spec):
    assert describe(spec) is None


@pytest.mark.parametrize("spec", [None, "", "  "])
def test_no_hours_is_none(spec):
    assert describe(spec) is None

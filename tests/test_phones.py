"""Phone numbers: read by phonenumbers into E.164, shown the French way, dialled by tel: links."""

from __future__ import annotations

import pytest

from locator import phones
from locator.ingest import clean
from locator.web import formatting


@pytest.mark.parametrize(
    ("written", "stored", "shown"),
    [
        ("04 73 82 05 88", "+33473820588", "04 73 82 05 88"),  # Mission locale du Livradois-Forez
        ("04.73.82.05.88", "+33473820588", "04 73 82 05 88"),
        ("0473820588", "+33473820588", "04 73 82 05 88"),
        ("473820588", "+33473820588", "04 73 82 05 88"),  # a spreadsheet ate the leading zero
        ("+33 4 73 82 05 88", "+33473820588", "04 73 82 05 88"),
        ("+33 (0)4 73 82 05 88", "+33473820588", "04 73 82 05 88"),
        ("0033 4 73 82 05 88", "+33473820588", "04 73 82 05 88"),
        ("06 12 34 56 78", "+33612345678", "06 12 34 56 78"),
        ("0262 90 00 00", "+262262900000", "0262 90 00 00"),  # La Réunion, dialled from France
        ("0269 61 10 00", "+262269611000", "0269 61 10 00"),  # Mayotte
        ("0590 82 00 00", "+590590820000", "0590 82 00 00"),  # Guadeloupe
        ("0596 63 11 22", "+596596631122", "0596 63 11 22"),  # Martinique
        ("0594 29 00 00", "+594594290000", "0594 29 00 00"),  # Guyane
        ("+262 262 90 00 00", "+262262900000", "0262 90 00 00"),
        ("+41 22 345 67 89", "+41223456789", "+41 22 345 67 89"),  # Geneva: international form
        ("+44 20 7946 0000", "+442079460000", "+44 20 7946 0000"),
    ],
)
def test_a_number_written_any_usual_way_is_stored_e164_and_shown_french(written, stored, shown):
    assert clean.phone(written) == (stored, None)
    assert phones.display(stored) == shown
    assert formatting.tel_href(stored) == "tel:" + stored


@pytest.mark.parametrize(
    "cell",
    ["voir site", "12", "04 73 82", "04 73 82 05 88 poste 12", "00 00 00 00 00", "n.c.", "+33 0 00 00 00 00"],
)
def test_a_cell_that_is_no_phone_number_is_refused_with_a_french_reason(cell):
    with pytest.raises(clean.Invalid, match="téléphone invalide"):
        clean.phone(cell)


@pytest.mark.parametrize("cell", ['=HYPERLINK("tel:0473820588")', "-0473820588", "@SUM(1)", "\t=1+1"])
def test_a_phone_cell_starting_like_a_formula_is_refused(cell):
    with pytest.raises(clean.Invalid, match="formule de tableur"):
        clean.phone(cell)


def test_two_numbers_in_one_cell_keep_the_first_with_a_warning():
    number, warning = clean.phone("04 73 82 05 88 ou 06 12 34 56 78")
    assert number == "+33473820588" and "seul le 04 73 82 05 88 est gardé" in warning


def test_a_store_written_before_e164_still_shows_and_dials_its_numbers():
    assert phones.display("04 73 82 05 88") == "04 73 82 05 88"
    assert formatting.tel_href("04 73 82 05 88") == "tel:+33473820588"
    assert phones.display("voir site") == "voir site" and formatting.tel_href("voir site") is None


@pytest.mark.parametrize("address", ["+cmd@evil.fr", "=cmd@evil.fr", "-cmd@evil.fr", " @cmd@evil.fr"])
def test_an_address_that_a_spreadsheet_would_run_is_refused_everywhere(address):
    for check in (clean.email, clean.email_address):
        with pytest.raises(clean.Invalid, match="formule de tableur"):
            check(address)


def test_a_french_number_is_valid_exactly_when_phonenumbers_says_so():
    # Every three-digit start of a French number, each with random endings: the metadata read once
    # must answer as the library's own validation does, for valid and invalid numbers alike.
    import random

    import phonenumbers

    rng = random.Random(33)
    checked = valid = 0
    for start in range(100, 1000):
        for _ in range(12):
            significant = f"{start}{rng.randrange(10**6):06d}"
            expected = phonenumbers.is_valid_number(
                phonenumbers.PhoneNumber(country_code=33, national_number=int(significant))
            )
            if f"0{significant}"[:4] not in phones.OVERSEAS_PREFIXES:  # « 0262 … » is La Réunion's
                assert phones.to_e164(f"0{significant}") == (f"+33{significant}" if expected else None)
            assert phones.to_e164(f"+33 {significant}") == (f"+33{significant}" if expected else None)
            checked += 1
            valid += expected
    assert checked == 10_800 and 3_000 < valid < checked  # both kinds, many of each

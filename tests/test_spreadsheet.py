"""One formula-safe cell function for every CSV: formulas defused however hidden, decimal commas."""

from __future__ import annotations

import pytest

from locator.publish import spreadsheet


@pytest.mark.parametrize(
    "text",
    [
        '\uff1dHYPERLINK("http://x")',  # full-width =
        "\uff0b33 4 73 00 00 00",
        "\uff0d2",
        "\uff20SUM(A1)",
        '\n=HYPERLINK("http://x")',
        "\r\n+1",
        "  =1+1",
        " \t@SUM(A1)",
        "\u3000\uff1d1",  # ideographic space, then full-width =
    ],
)
def test_formulas_hidden_behind_blanks_or_full_width_signs_are_defused(text):
    assert spreadsheet.safe_cell(text) == "'" + text


def test_numbers_are_written_with_a_decimal_comma_and_stay_numbers():
    assert spreadsheet.safe_cell(1.5) == "1,5"
    assert spreadsheet.safe_cell(-0.25) == "-0,25"
    assert spreadsheet.safe_cell(7) == "7"


def test_ordinary_text_is_left_alone():
    assert spreadsheet.safe_cell("Mission locale de Thiers – 1 = 1") == "Mission locale de Thiers – 1 = 1"
    assert spreadsheet.safe_cell("") == ""


def test_text_has_a_bom_semicolons_and_crlf():
    body = spreadsheet.text(("nom", "distance_km"), [{"nom": "=x", "distance_km": 0.05}])
    assert body == "\ufeffnom;distance_km\r\n'=x;0,05\r\n"

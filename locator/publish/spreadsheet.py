"""CSV for French spreadsheets (Excel, LibreOffice): UTF-8 with BOM, ';', decimal commas, formulas defused.

Every CSV the project hands out (the directory export, the quality lists) is written here, so that
a cell is made safe and a number is spelled the same way in all of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection), full-width forms
# included (Excel folds them), and also after leading blanks (it trims them before deciding).
FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# A cell starting with one of these is quoted whatever follows: a tab or line break can hide a formula.
BLANK_START = ("\t", "\r", "\n")


def safe_cell(value: Any) -> str:
    """Return a cell a spreadsheet shows as text: numbers with a decimal comma, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text.startswith(BLANK_START) or text.lstrip().startswith(FORMULA_START):
        return "'" + text
    return text


def write(out: IO[str], columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write a BOM, the header and every row's `columns` as safe cells; return how many rows."""
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
        n += 1
    return n


def text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """Return the rows as one CSV text (for an HTTP answer)."""
    out = io.StringIO()
    write(out, columns, rows)
    return out.getvalue()

"""The weekdays, Monday first: OSM `opening_hours` codes and French names, for every part that needs them."""

from __future__ import annotations

CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
NAME_OF_CODE = dict(zip(CODES, NAMES, strict=True))
CODE_OF_NAME = dict(zip(NAMES, CODES, strict=True))
# One weekday code, for the regular expressions that read OSM selectors.
PATTERN = "(?:" + "|".join(CODES) + ")"

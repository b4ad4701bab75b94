"""Postal noise in French addresses: CEDEX, boîtes postales, CS/TSA codes (a geocoder knows none)."""

from __future__ import annotations

import re

_SPACES = re.compile(r"[ \t\xa0\u202f]+")

# Postal noise that a geocoder does not know: CEDEX, boîtes postales, CS/TSA sorting codes.
_POSTAL_NOISE = re.compile(
    r"(?:\b(?:B\.?\s?P\.?|BOITE\s+POSTALE|BOÎTE\s+POSTALE|C\.?S\.?|TSA|CEDEX)\s*\d*\b|\bCEDEX\b)",
    re.IGNORECASE,
)


def without_postal_noise(value: str | None) -> str | None:
    """Drop CEDEX, BP, CS and TSA mentions from an address or a commune name (for geocoding)."""
    if not value:
        return value
    out = _POSTAL_NOISE.sub(" ", value)
    out = re.sub(r"\s*,\s*(,\s*)+", ", ", out)
    out = _SPACES.sub(" ", out).strip(" ,-")
    return out or None


def has_cedex(value: str | None) -> bool:
    """Tell whether a commune or address mentions CEDEX."""
    return bool(value) and bool(re.search(r"\bcedex\b", value, re.IGNORECASE))

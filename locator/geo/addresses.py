"""Street addresses compared the way people write them ("5T av des sports" = "5 TER AVENUE DES SPORTS")."""

from __future__ import annotations

import re

from .names import fold

# Abbreviations of French street types and of the words of street names (La Poste's usual ones).
_WORDS = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "boul": "boulevard",
    "r": "rue",
    "pl": "place",
    "all": "allee",
    "esp": "esplanade",
    "ch": "chemin",
    "che": "chemin",
    "chem": "chemin",
    "rte": "route",
    "imp": "impasse",
    "sq": "square",
    "crs": "cours",
    "fg": "faubourg",
    "fbg": "faubourg",
    "qu": "quai",
    "pas": "passage",
    "prom": "promenade",
    "res": "residence",
    "mal": "marechal",
    "gal": "general",
    "gen": "general",
    "dr": "docteur",
    "pr": "professeur",
    "st": "saint",
    "ste": "sainte",
    "t": "ter",
    "b": "bis",
}
# Postal noise that says nothing of the place: a box, a sorting code.
_POSTAL = re.compile(r"\b(bp|cs|tsa|boite postale|cedex)\s*\d*\b")
_NUMBER_SUFFIX = re.compile(r"\b(\d+)\s*(bis|ter|quater|b|t)\b")
_NUMBER = re.compile(r"^\d+(?: (?:bis|ter|quater))?")


def key(text: str | None) -> str:
    """Return an address as comparable words: folded, abbreviations written out, postal noise dropped.

    Only the part before the first comma counts: what follows is a complement (a building, a box).
    """
    first = fold(text or "").split(",")[0]
    first = _POSTAL.sub(" ", first)
    words = re.findall(r"[a-z0-9]+", first.replace("'", " "))
    out = " ".join(_WORDS.get(w, w) for w in words)
    return _NUMBER_SUFFIX.sub(lambda m: f"{m.group(1)} {_WORDS.get(m.group(2), m.group(2))}", out)


def number(address_key: str) -> str | None:
    """Return the house number of an address key ("5 ter"), or None when it has none."""
    found = _NUMBER.match(address_key)
    return found.group(0) if found else None


def similarity(a: str | None, b: str | None) -> int:
    """Return how alike two addresses are, 0-100 (0 when the house numbers differ or one is empty)."""
    from rapidfuzz import fuzz

    ka, kb = key(a), key(b)
    if not ka or not kb:
        return 0
    na, nb = number(ka), number(kb)
    if na and nb and na != nb:
        return 0
    return round(fuzz.token_set_ratio(ka, kb))

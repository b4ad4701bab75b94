"""Street addresses compared the way people write them ("5T av des sports" = "5 TER AVENUE DES SPORTS")."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


# A French postcode: five digits alone (not part of a longer number, a phone or a SIRET).
_POSTCODE = re.compile(r"(?<![\d.])(\d{5})(?![\d.])")
# A box or sorting number (« CS 20063 », « BP 82148 ») is five digits too, and no postcode.
_BOX_BEFORE = re.compile(r"(?:\bB\.?\s?P\.?|\bC\.?S\.?|\bTSA|\bCEDEX)\s*$", re.IGNORECASE)
# What separates the street from the commune when people write both in one cell.
_SEPARATOR = re.compile(r"\s*(?:,|;|\s[-–—]\s|\n)\s*")
_EDGES = " \t,;-–—\n"
# A street part cannot end with these words: « 12 rue de Lyon » is a street, not « 12 rue de » in Lyon.
_LINKING = frozenset(("de", "du", "des", "d", "la", "le", "les", "l", "sur", "sous", "en", "a", "au", "aux"))
_LINKING |= frozenset(("et", "lez"))
# Words that begin a street, never a commune name: « 12 rue de Lyon » has no commune.
_STREET_TYPES = frozenset(
    (
        "rue",
        "avenue",
        "boulevard",
        "place",
        "allee",
        "esplanade",
        "chemin",
        "route",
        "impasse",
        "square",
        "cours",
        "faubourg",
        "quai",
        "passage",
        "promenade",
        "residence",
        "lieu",
        "hameau",
        "zone",
        "za",
        "zi",
        "zac",
        "parc",
        "centre",
        "bat",
        "batiment",
    )
)
# A commune name does not begin with a linking word (its article, « Le », « La », « Les », may).
_NOT_FIRST = frozenset(("de", "du", "des", "d", "sur", "sous", "en", "et", "lez", "a", "au"))
# The most words a commune name takes (« Saint-Jean-de-Moirans » written with spaces: 4).
MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class Split:
    """An address cell cut in three: the street part, the postcode and the commune as written."""

    rue: str | None
    code_postal: str | None = None
    commune: str | None = None


def split(text: str | None) -> Split:
    """Cut « 4 place Sanville 01500 Ambérieu-en-Bugey » into street, postcode and commune.

    The last postcode of the text decides: what follows it is the commune (« Cedex 2 » included), what
    precedes it the street; « 12 rue X, Riom 63200 » gives the street « 12 rue X, Riom » and no commune
    (commune_tails then finds it). Without a postcode the whole text is the street.
    """
    text = (text or "").strip(_EDGES)
    if not text:
        return Split(None)
    found = [m for m in _POSTCODE.finditer(text) if not _BOX_BEFORE.search(text, 0, m.start())]
    if not found:
        return Split(text)
    last = found[-1]
    street = text[: last.start()].strip(_EDGES) or None
    commune = text[last.end() :].strip(_EDGES) or None
    return Split(street, last.group(1), commune)


def commune_tails(text: str | None) -> list[tuple[str | None, str, bool]]:
    """Return the ways to read the end of an address as a commune name, the likeliest first.

    Each is (street part or None, commune as written, separated): `separated` when a comma or a dash
    set the commune apart (« 12 rue de l'Hôtel de Ville, Riom »), else the last words of the text, the
    longest first, never leaving a street part that ends with a linking word (« 12 rue de Lyon »).
    """
    text = (text or "").strip(_EDGES)
    if not text:
        return []
    out: list[tuple[str | None, str, bool]] = []
    parts = _SEPARATOR.split(text)
    if len(parts) > 1 and parts[-1] and not re.search(r"\d", parts[-1]):
        head = text[: len(text) - len(parts[-1])].strip(_EDGES)
        out.append((head or None, parts[-1], True))
    last = parts[-1]
    words = last.split()
    before = text[: len(text) - len(last)]
    for n in range(min(MAX_NAME_WORDS, len(words)), 0, -1):
        tail = words[-n:]
        if any(re.search(r"\d", w) for w in tail):
            continue
        street_words = words[:-n]
        first = fold(tail[0]).strip(".")
        if _WORDS.get(first, first) in _STREET_TYPES or re.split(r"['’]", first)[0] in _NOT_FIRST:
            continue
        if street_words and fold(street_words[-1]).strip("'’.") in _LINKING:
            continue
        if street_words and fold(street_words[-1]).endswith(("d'", "l'", "d’", "l’")):
            continue
        street = (before + " ".join(street_words)).strip(_EDGES) or None
        candidate = (street, " ".join(tail), False)
        if not out or out[0][1] != candidate[1]:
            out.append(candidate)
    return out

"""Name normalisation for search: one function, used the same way at indexing and at query time."""

from __future__ import annotations

import re
import unicodedata

# INSEE "type de nom en clair" (TNCC) → the article written before the name.
ARTICLES = {
    "0": "",
    "1": "",
    "2": "Le ",
    "3": "La ",
    "4": "Les ",
    "5": "L'",
    "6": "Aux ",
    "7": "Las ",
    "8": "Los ",
}
LEADING_ARTICLES = ("le ", "la ", "les ", "l ", "aux ", "las ", "los ")

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_SEPARATORS = re.compile(r"[\s'’‘`´\-‐‑–—_./,;:()\"«»]+")
# Abbreviations people write for the words of French place names.
_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "sts": "saints",
    "stes": "saintes",
    "s": "sur",  # "Neuville s/ Saône"
    "ss": "sous",
    "mt": "mont",
    "nd": "notre dame",
}


def with_article(nom: str, type_nom: str | int | None) -> str:
    """Rebuild the official name from the INSEE name without article and its TNCC code."""
    article = ARTICLES.get(str(type_nom or "0"), "")
    return f"{article}{nom}"


def de(name: str) -> str:
    """Return "de" and a place name as French writes it: "d'Annecy", "du Puy-en-Velay", "des Abrets"."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if fold(name[:1]) in ("a", "e", "i", "o", "u", "y"):
        return "d'" + name
    return "de " + name


def fold(text: str) -> str:
    """Lower-case, strip accents and ligatures; keep every other character."""
    text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def normalize(text: str) -> str:
    """Return the search key of a name: folded, words split on any separator, abbreviations expanded."""
    words = [w for w in _SEPARATORS.split(fold(text)) if w]
    out: list[str] = []
    for word in words:
        out.append(_ABBREVIATIONS.get(word, word))
    return " ".join(out)


def strip_article(key: str) -> str:
    """Drop a leading article from a normalised key ("le puy en velay" → "puy en velay")."""
    for article in LEADING_ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            return key[len(article) :]
    return key


def glued(key: str) -> str:
    """Return the key without spaces, so that glued and split spellings meet."""
    return key.replace(" ", "")

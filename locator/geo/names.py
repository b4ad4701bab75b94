"""Name normalisation for search (the same at indexing and at query time) and French name grammar."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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
# Words people leave out or add between the meaningful ones ("Neuville Saône", "Puy Velay").
STOPWORDS = frozenset(
    ("le", "la", "les", "l", "aux", "las", "los", "de", "du", "des", "d", "en", "sur", "sous", "et", "lez")
)

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_LIGATURE_FOUND = re.compile("[œŒæÆß]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # beyond the plane _combining_marks covers
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
# Names whose initial h is mute ("d'Honfleur"); every other h is taken as aspirated ("de Haut-Bocage"),
# which is the rule for the Germanic names that make most French place names in H.
_MUTE_H = ("honfleur", "hericourt", "hyeres", "herouville", "hermanville")


def with_article(nom: str, type_nom: str | int | None) -> str:
    """Rebuild the official name from the INSEE name without article and its TNCC code."""
    article = ARTICLES.get(str(type_nom or "0"), "")
    return f"{article}{nom}"


@lru_cache(maxsize=1)
def _combining_marks() -> re.Pattern[str]:
    """Every combining mark of the Basic Multilingual Plane, as one character class (built once, ~20 ms)."""
    marks = "".join(chr(i) for i in range(0x300, 0x10000) if unicodedata.combining(chr(i)))
    return re.compile(f"[{re.escape(marks)}]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and ligatures; keep every other character."""
    if text.isascii():  # no accent, no ligature (most cells): the same answer, 20 times faster
        return text.lower()
    if _LIGATURE_FOUND.search(text):  # a test is cheaper than translating every character
        text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    if not _ASTRAL.search(decomposed):  # one regex pass instead of a test per character (imports' hot spot)
        return _combining_marks().sub("", decomposed).lower()
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """Return the folded words of a text, split on any separator, abbreviations not expanded."""
    return [w for w in _SEPARATORS.split(fold(text)) if w]


def expand(word: str) -> str:
    """Return the word an abbreviation stands for ("st" → "saint"), or the word itself."""
    return _ABBREVIATIONS.get(word, word)


@lru_cache(maxsize=8192)  # imports ask for the same names again and again (rows, communes, parents)
def normalize(text: str) -> str:
    """Return the search key of a name: folded, words split on any separator, abbreviations expanded."""
    return " ".join(expand(w) for w in words(text))


def ends_with_separator(text: str) -> bool:
    """Tell whether the last word of a text is finished (followed by a space, hyphen, apostrophe...)."""
    return bool(text) and bool(_SEPARATORS.fullmatch(text[-1]))


def strip_article(key: str) -> str:
    """Drop a leading article from a normalised key ("le puy en velay" → "puy en velay")."""
    for article in LEADING_ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            return key[len(article) :]
    return key


def skeleton(key: str) -> str:
    """Drop the articles and linking words of a normalised key ("le puy en velay" → "puy velay")."""
    kept = [w for w in key.split() if w not in STOPWORDS]
    return " ".join(kept) if kept else key


def glued(key: str) -> str:
    """Return the key without spaces, so that glued and split spellings meet."""
    return key.replace(" ", "")


def of(nom: str) -> str:
    """Return "de" + a name the French way: "d’Annecy", "du Puy-en-Velay", "des Abrets", "de Thiers"."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if nom.startswith(article):
            return contracted + nom[len(article) :]
    folded = fold(nom)
    first, second = folded[:1], folded[1:2]
    vowel_sound = (
        first in "aeiou"
        or (first == "y" and second not in "aeiouy")  # Yssingeaux, but Yenne
        or folded.startswith(_MUTE_H)
    )
    return f"d’{nom}" if vowel_sound and first else f"de {nom}"


def at(nom: str) -> str:
    """Return "à" + a name the French way: "à Ambert", "au Puy-en-Velay", "aux Abrets"."""
    for article, contracted in (("Le ", "au "), ("Les ", "aux ")):
        if nom.startswith(article):
            return contracted + nom[len(article) :]
    return f"à {nom}"


def former_note(nom: str, type_: str, current: str) -> str:
    """Say in French which current commune a former commune (COMD / COMA) now belongs to."""
    what = "une commune déléguée" if type_ == "COMD" else "une commune associée"
    return f"{nom} est {what} {of(current)}."

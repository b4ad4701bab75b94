"""French wording shared by pages, messages and the command line: counts with real plurals."""

from __future__ import annotations

_INVARIABLE_ENDINGS = ("s", "x", "z")


def _plural_word(word: str) -> str:
    """A word's regular plural (« ligne » → « lignes », « lue » → « lues », « pris » unchanged)."""
    return word if word.endswith(_INVARIABLE_ENDINGS) or not word[-1:].isalpha() else word + "s"


def plural(words: str) -> str:
    """The regular plural of a group of words, each agreeing (« ligne rejetée » → « lignes rejetées »)."""
    return " ".join(_plural_word(w) for w in words.split(" "))


def count(n: int | str, singular: str, plural_form: str | None = None) -> str:
    """« 1 ligne lue », « 0 ligne lue », « 3 lignes lues »: French takes the singular below 2.

    `plural_form` is for what does not agree word by word (« mise à jour » → « mises à jour »).
    """
    n = int(n)  # counts read from a file arrive as text
    if abs(n) < 2:
        return f"{n} {singular}"
    return f"{n:,}".replace(",", "\u202f") + " " + (plural_form or plural(singular))

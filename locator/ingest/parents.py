"""Which structure may be attached to which: the rules the admin form and the imports share.

An antenne belongs to a Mission locale; a Mission locale is a head structure and belongs to none;
nothing belongs to an antenne; other structures (a site of an E2C, a dispositif hosted by a CIO...)
may belong to any structure that is not an antenne. A chain of parents never loops back.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .. import wording
from ..geo import names
from ..geo.distance import haversine_km
from ..store import structures as store_structures
from ..store.schema import STRUCTURE_TYPES
from ..store.scratch import Scratch

# Types a structure's parent may have, for each type (the others: PARENT_TYPES).
PARENT_TYPES = tuple(t for t in STRUCTURE_TYPES if t != "antenne_mission_locale")
_PARENTS_OF = {"antenne_mission_locale": ("mission_locale",), "mission_locale": ()}
# The type with its article, for messages.
_A_TYPE = {
    "mission_locale": "une Mission locale",
    "antenne_mission_locale": "une antenne de Mission locale",
    "cio": "un CIO",
    "psad": "une PSAD",
    "mlds": "une MLDS",
    "e2c": "une École de la 2e chance",
    "epide": "un EPIDE",
    "dispositif": "un dispositif",
    "partenaire": "un partenaire",
}
# A longer chain of parents than this is damaged data: the walk stops and calls it a loop.
MAX_DEPTH = 64


def parent_types(type_: str) -> tuple[str, ...]:
    """Return the types a structure of this type may be attached to (none for a Mission locale)."""
    return _PARENTS_OF.get(type_, PARENT_TYPES)


def a_type(type_: str) -> str:
    """Return the type with its indefinite article: "un CIO", "une Mission locale"."""
    return _A_TYPE.get(type_, f"un {type_}")


def type_refusal(type_: str, parent_nom: str, parent_type: str) -> str | None:
    """Say in French why a structure of `type_` cannot belong to this parent (None: it can)."""
    if parent_type in parent_types(type_):
        return None
    if type_ == "mission_locale":
        return (
            f"une Mission locale ne se rattache à aucune structure (« {parent_nom} » refusée) ; "
            "pour un point d’accueil, choisissez le type antenne"
        )
    if type_ == "antenne_mission_locale":
        return f"une antenne se rattache à une Mission locale : « {parent_nom} » est {a_type(parent_type)}"
    return f"« {parent_nom} » est une antenne : aucune structure ne se rattache à une antenne"


def loop(
    conn: sqlite3.Connection,
    structure_id: str,
    parent_id: str,
    planned: dict[str, str] | Scratch | None = None,
) -> list[str] | None:
    """Return the chain of ids from `parent_id` back to `structure_id` when attaching would loop.

    Each step up follows `planned` (links an import has decided but not written yet) first, then
    the store. None when the chain ends without coming back.
    """
    chain, current, seen = [], parent_id, set()
    while current is not None:
        chain.append(current)
        if current == structure_id:
            return chain
        if current in seen or len(chain) > MAX_DEPTH:
            return None  # a loop the store already holds, above: not this link's doing
        seen.add(current)
        step = planned.get(current) if planned is not None else None
        current = step or store_structures.parent_of(conn, current)
    return None


def loop_refusal(conn: sqlite3.Connection, chain: list[str], structure_nom: str) -> str:
    """Say in French why a link would loop, naming the chain (as `loop` returns it)."""
    named = []
    for sid in chain[:-1]:
        stored = store_structures.get_stored(conn, sid)
        named.append(stored["nom"] if stored else sid)
    path = " → ".join(f"« {n} »" for n in [*named, structure_nom])
    return (
        f"rattachement à « {named[0]} » refusé : elle est elle-même rattachée à « {structure_nom} » "
        f"({path}), cela ferait une boucle"
    )


def children_refusal(conn: sqlite3.Connection, structure_id: str, new_type: str) -> str | None:
    """Say in French why a structure cannot take `new_type` while others are attached to it."""
    refused = [
        (nom, t)
        for _sid, nom, t in store_structures.children_with_types(conn, structure_id)
        if new_type not in parent_types(t)
    ]
    if not refused:
        return None
    listed = ", ".join(f"« {nom} »" for nom, _t in refused[:5]) + (" …" if len(refused) > 5 else "")
    return (
        f"{wording.count(len(refused), 'structure y est rattachée', 'structures y sont rattachées')}"
        f" ({listed}) : elle ne peut pas devenir "
        f"{a_type(new_type)} ; rattachez-les ailleurs d’abord"
    )


# -- the Mission locale an antenne names, and the ones to suggest when it names none ----------------
# Words every Mission locale's name has, or that say nothing of which one it is.
_GENERIC = frozenset(("mission", "missions", "locale", "locales", "ml", "jeunes", "pour", "sa", "son"))
# A name read loosely is taken when it is this alike (_alike, on the telling words)...
MATCH_SCORE = 88
# ...and this far ahead of the next Mission locale (else the file must say which one).
MATCH_MARGIN = 8
# A name this alike is suggested first among its département's Missions locales.
SUGGEST_SCORE = 70
SUGGESTIONS = 3


@lru_cache(maxsize=4096)  # the same Missions locales' names, row after row
def telling_words(name: str) -> str:
    """Return the words that tell a Mission locale apart (« ML Riom Limagne » → « riom limagne »)."""
    kept = [w for w in names.normalize(name).split() if w not in _GENERIC and w not in names.STOPWORDS]
    return " ".join(kept)


def _alike(wanted: str, nom: str) -> float:
    """How alike a written name is to a Mission locale's name, 0-100, on their telling words.

    A name that is part of the Mission locale's (« Riom » for « Riom Limagne Combrailles ») counts as
    alike; one that says more than it (« Grenoble Sud » for « Grenoble ») does not.
    """
    from rapidfuzz import fuzz

    telling = telling_words(nom)
    if set(wanted.split()) <= set(telling.split()):
        return 100.0
    return max(fuzz.ratio(wanted, telling), fuzz.token_sort_ratio(wanted, telling))


def match_mission_locale(
    name: str, missions: Sequence[dict[str, Any]], departement: str | None = None
) -> dict[str, Any] | None:
    """Return the one Mission locale of the row's département a loosely written name means.

    None when no name is alike enough or two are about as alike (« Isère » names five of them).
    """
    wanted = telling_words(name)
    if not wanted:
        return None
    here = [m for m in missions if departement is None or m.get("departement") == departement]
    scored = sorted(((_alike(wanted, m["nom"]), i) for i, m in enumerate(here)), reverse=True)
    if not scored or scored[0][0] < MATCH_SCORE:
        return None
    if len(scored) > 1 and scored[1][0] > scored[0][0] - MATCH_MARGIN:
        return None
    return here[scored[0][1]]


class Suggestions:
    """The Missions locales to suggest for rows, filed once by département with their places in
    radians: an import asks for thousands of rows against the same few dozen."""

    def __init__(self, missions: Sequence[dict[str, Any]]):
        self.missions = list(missions)
        self._groups: dict[tuple[str | None, bool], _Group] = {}

    def _group(self, departement: str | None, inside: bool) -> _Group:
        key = (departement, inside)
        if key not in self._groups:
            chosen = [m for m in self.missions if (m.get("departement") == departement) == inside]
            self._groups[key] = _Group(chosen)
        return self._groups[key]

    def suggest(
        self,
        departement: str | None,
        point: tuple[float, float] | None,
        name: str | None = None,
        limit: int = SUGGESTIONS,
    ) -> list[tuple[dict[str, Any], float | None]]:
        """Return (Mission locale, distance in km or None) to suggest for a row, best first.

        Those of the row's département come first, by distance from the row's point (latitude,
        longitude); a name written in the row puts an alike one first among them. Other départements'
        Missions locales fill the list, by distance only, when the row's has fewer than `limit`.
        """
        wanted = telling_words(name) if name else ""
        found = self._group(departement, True).ranked(point, wanted, limit)
        if len(found) < limit:  # the others are only ranked when needed
            found += self._group(departement, False).ranked(point, "", limit - len(found))
        return [(m, _km(point, m)) for m in found]


class _Group:
    """Some Missions locales, with what ranking them by distance needs as arrays."""

    def __init__(self, missions: list[dict[str, Any]]):
        import numpy as np

        self.missions = missions
        lat = np.array([np.nan if m.get("latitude") is None else m["latitude"] for m in missions], float)
        lon = np.array([np.nan if m.get("longitude") is None else m["longitude"] for m in missions], float)
        self.phi, self.lam = np.radians(lat), np.radians(lon)
        self.cos = np.cos(self.phi)
        self.placeless = np.isnan(lat) | np.isnan(lon)
        # Ties in distance go to the name first in alphabetical order.
        self.name_rank = np.argsort(np.argsort(np.array([m["nom"] for m in missions], dtype=object)))

    def ranked(self, point: tuple[float, float] | None, wanted: str, count: int) -> list[dict[str, Any]]:
        """The `count` best: one named like `wanted` first, then placed before placeless, nearest first."""
        import numpy as np

        if not self.missions or count <= 0:
            return []
        if point is None:
            near = np.zeros(len(self.missions))
            placeless = np.ones(len(self.missions), bool)
        else:
            p1, l1 = math.radians(point[0]), math.radians(point[1])
            # Haversine's inner term, without its root and arcsine: it grows with the distance.
            near = np.sin((self.phi - p1) / 2) ** 2
            near += math.cos(p1) * self.cos * np.sin((self.lam - l1) / 2) ** 2
            placeless = self.placeless
            near = np.where(placeless, 0.0, near)
        unlike = np.ones(len(self.missions), bool)
        if wanted:
            unlike = np.array([_alike(wanted, m["nom"]) < SUGGEST_SCORE for m in self.missions], bool)
        order = np.lexsort((self.name_rank, near, placeless, unlike))
        return [self.missions[i] for i in order[:count]]


def _km(point: tuple[float, float] | None, m: dict[str, Any]) -> float | None:
    """Return the distance in km from the point to a Mission locale, or None when either has no place."""
    if point is None or m.get("latitude") is None or m.get("longitude") is None:
        return None
    return haversine_km(point[0], point[1], m["latitude"], m["longitude"])


def km_text(distance: float) -> str:
    """Return a distance the French way: « 850 m », « 4,2 km », « 57 km »."""
    if distance < 1:
        return f"{max(10, round(distance * 1000, -1)):.0f} m"
    return f"{distance:.1f} km".replace(".", ",") if distance < 10 else f"{distance:.0f} km"


def suggestions_text(found: Sequence[tuple[dict[str, Any], float | None]]) -> str:
    """Say the suggested Missions locales with their distances: « « Mission locale X » à 12 km, … »."""
    return ", ".join(f"« {m['nom']} »" + (f" à {km_text(d)}" if d is not None else "") for m, d in found)

"""Which structure may be attached to which: the rules the admin form and the imports share.

An antenne belongs to a Mission locale; a Mission locale is a head structure and belongs to none;
nothing belongs to an antenne; other structures (a site of an E2C, a dispositif hosted by a CIO...)
may belong to any structure that is not an antenne. A chain of parents never loops back.
"""

from __future__ import annotations

import sqlite3

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
            f"une Mission locale ne se rattache à aucune structure (« {parent_nom} » refusée) ; "
            "pour un point d'accueil, choisissez le type antenne"
        )
    if type_ == "antenne_mission_locale":
        return f"une antenne se rattache à une Mission locale : « {parent_nom} » est {a_type(parent_type)}"
    return f"« {parent_nom} » est une antenne : aucune structure ne se rattache à une antenne"


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
    names = []
    for sid in chain[:-1]:
        stored = store_structures.get_stored(conn, sid)
        names.append(stored["nom"] if stored else sid)
    path = " → ".join(f"« {n} »" for n in [*names, structure_nom])
    return (
        f"rattachement à « {names[0]} » refusé : elle est elle-même rattachée à « {structure_nom} » "
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
        f"{len(refused)} structure(s) y sont rattachées ({listed}) : elle ne peut pas devenir "
        f"{a_type(new_type)} ; rattachez-les ailleurs d'abord"
    )

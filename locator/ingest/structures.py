"""Stable ids and source vintages of structures (shared by the seed, admin imports and the annuaire)."""

from __future__ import annotations

import re
from functools import lru_cache

from ..geo import names

# Vintage of each source family, when the row does not say it (see ../shared/data/SOURCES.md).
SOURCE_DATES = (
    ("Carte-reseaux-SPRO-ARA", "2022-05-25"),
    ("betagouv/annuaire", "2017-12-12"),
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "janvier",
            "fevrier",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "aout",
            "septembre",
            "octobre",
            "novembre",
            "decembre",
        ),
        start=1,
    )
}
_ISO_DAY = re.compile(r"(?<!\d)(20\d\d|19\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?!\d)")
_YEAR_MONTH_PATH = re.compile(r"/(20\d\d)/(0[1-9]|1[0-2])/")
_MONTH_YEAR = re.compile(r"\b(" + "|".join(_MONTHS) + r")[\s-]+(20\d\d)\b")


# A safe id: lower-case ASCII letters, digits, dashes, dots and underscores, starting and ending with a
# letter or a digit, 120 characters at most; it is a path segment of the site (/structures/<id>).
SAFE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9_.\-]{0,118}[a-z0-9])?$")
# Words of the site's paths (tests/test_reserved_ids.py checks every literal segment of the routes is
# here): an id equal to one would be shadowed by the route, as « nouvelle » is by the new-structure form.
RESERVED_IDS = frozenset(
    {
        # /admin/structures/nouvelle and the actions after an id
        "nouvelle",
        "nouveau",
        "archiver",
        "restaurer",
        "signaler",
        "modifier",
        "supprimer",
        "exporter",
        "territoire.geojson",
        "carte.html",  # /departements/<code>/carte.html, the map to take away
        # every other word of the site's paths
        "abandonner",
        "admin",
        "ajouter",
        "annuler",
        "api",
        "carte.json",
        "communes",
        "comptes",
        "confirmer",
        "departements",
        "docs",
        "doublon",
        "healthz",
        "historique",
        "import",
        "imports",
        "lieux",
        "lignes",
        "login",
        "logout",
        "mission-locale",
        "mon-compte",
        "mot-de-passe",
        "openapi.json",
        "position.json",
        "qualite",
        "recherche",
        "rejeter",
        "resoudre",
        "role",
        "signalements",
        "static",
        "structures",
        "structures.geojson",
        "structures.gpkg",
        "territoires",
        "territoires.geojson",
        "territoires.gpkg",
        "v1",
    }
)


def id_problem(ident: str) -> str | None:
    """Say in French why `ident` cannot name a new structure (None: it can)."""
    if not SAFE_ID.match(ident):
        return (
            f"identifiant invalide « {ident[:40]} » : lettres minuscules sans accents, chiffres, tirets, "
            "points ou soulignés, commençant et finissant par une lettre ou un chiffre (120 au plus)"
        )
    if ident in RESERVED_IDS:
        return f"identifiant « {ident} » réservé : c’est un mot des adresses du site ; choisissez-en un autre"
    return None


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)  # asked twice for each new row (its id, then whether it has one)
def slug(text: str) -> str:
    """Return an ASCII slug of a name, for readable stable ids."""
    return _NOT_SLUG.sub("-", names.fold(text)).strip("-")[:80]


def structure_id(type_: str, nom: str, code_insee: str | None) -> str:
    """Return the stable id of a structure: its name's slug and its commune (same row, same id).

    An antenne may carry its Mission locale's exact name (Villeurbanne): "antenne-" tells them apart.
    The import keeps the id of a structure it recognises (by explicit id, annuaire id, or type +
    commune + name), so a later change of name does not change the id.
    """
    base = slug(nom)
    if type_ == "antenne_mission_locale" and not base.startswith("antenne"):
        base = f"antenne-{base}"
    return f"{base}-{(code_insee or 'xx').lower()}"


def source_date(source: str | None) -> str | None:
    """Return the vintage a source text gives: a known source family, else a date written in it.

    Dates in URLs and citations count ("2016-09-06", "/2021/11/", "novembre 2022", "novembre-2011");
    the first month of an undated month is used. None when the source says nothing.
    """
    if not source:
        return None
    for marker, date in SOURCE_DATES:
        if marker in source:
            return date
    folded = names.fold(source)
    found: list[str] = []
    for m in _ISO_DAY.finditer(folded):
        found.append(f"{m.group(1)}-{m.group(2)}-{m.group(3)}")
    for m in _YEAR_MONTH_PATH.finditer(folded):
        found.append(f"{m.group(1)}-{m.group(2)}-01")
    for m in _MONTH_YEAR.finditer(folded):
        found.append(f"{m.group(2)}-{_MONTHS[m.group(1)]:02d}-01")
    return max(found) if found else None

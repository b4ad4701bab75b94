"""Coverage lists: which communes each Mission locale is competent for (the network's file) → `couverture`.

The Missions locales network publishes `Code INSEE; Nom Commune; Code ML; Nom Officiel ML; Commune
présente sur plusieurs ML; ...` (';', UTF-8 with BOM). The Mission locale of a line is found by a code
already recorded for it, by the commune its code starts with (i-milo codes such as "63003S00"), by the
commune named in "NN-ML NAME", or by a close name in its département. A plain list `code_insee;
structure_id` is read too. A commune listed for several Missions locales keeps all of them.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from ..geo import codes, names
from ..store import communes as store_communes
from ..store import coverage as store_coverage
from ..store import structures as store_structures
from . import clean
from .table import NOTES, Table

_OFFICIAL = re.compile(r"^\s*(\d[\dAB])\s*[-–—]?\s*ML\s+(.+)$", re.IGNORECASE)
_GENERIC_WORDS = re.compile(r"\b(mission|missions|locale|locales|ml|jeunes|pour|l|emploi|insertion)\b")
_YES = {"oui", "o", "yes", "y", "1", "true", "vrai", "x"}


@dataclass
class CoverageLine:
    """One line of a coverage file and what it means."""

    ligne: int
    action: str  # "nouveau" (pair added), "inchange", "rejete"
    code_insee: str | None = None
    structure_id: str | None = None
    erreurs: list[str] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the line as JSON-able data."""
        return dict(self.__dict__)


class MissionLocaleFinder:
    """Finds the Mission locale a coverage line means; answers are cached per (code, name)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.cache: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    def _in_commune(self, code: str) -> list[dict[str, Any]]:
        commune = store_communes.get(self.conn, code)
        city = (commune or {}).get("commune_parent") or code
        pool = [city] + [a["code"] for a in store_communes.arrondissements_of(self.conn, city)]
        mls = [s for c in pool for s in store_structures.in_commune(self.conn, c, ("mission_locale",))]
        if mls:
            return mls
        parents = {
            s["parent_id"]
            for c in pool
            for s in store_structures.in_commune(self.conn, c, ("antenne_mission_locale",))
            if s["parent_id"]
        }
        return [p for p in (store_structures.get_stored(self.conn, i) for i in sorted(parents)) if p]

    def find(self, code_ml: str, nom_ml: str) -> tuple[str | None, str | None]:
        """Return (structure id, how it was found) or (None, why not)."""
        key = (code_ml, nom_ml)
        if key not in self.cache:
            self.cache[key] = self._find(code_ml, nom_ml)
        return self.cache[key]

    def _find(self, code_ml: str, nom_ml: str) -> tuple[str | None, str | None]:
        if code_ml:
            sid = store_structures.by_ref(self.conn, "code_ml", code_ml)
            if sid:
                return sid, None
            prefix = code_ml[:5].upper()
            if codes.is_insee_code(prefix):
                found = self._in_commune(prefix)
                if len(found) == 1:
                    return found[0]["id"], None
        m = _OFFICIAL.match(nom_ml or "")
        dep = codes.normalize_departement(m.group(1)) if m else None
        if not dep and code_ml and codes.is_insee_code(code_ml[:5]):
            dep = codes.departement_of_insee(code_ml[:5])
        if m:
            from ..places.resolve import resolve

            town = m.group(2)
            places = [
                p
                for p in resolve(self.conn, town, limit=10)
                if p["type"] == "commune" and p["match"] == "exact" and p["commune"]["departement"] == dep
            ]
            if len(places) >= 1:
                found = self._in_commune(places[0]["code"])
                if len(found) == 1:
                    return found[0]["id"], None
        if nom_ml:
            wanted = _GENERIC_WORDS.sub(" ", names.normalize(nom_ml)).split()
            scored = []
            for sid, nom, _t in store_structures.names_of_types(self.conn, ("mission_locale",)):
                s = store_structures.get_stored(self.conn, sid)
                if dep and s["departement"] != dep:
                    continue
                own = _GENERIC_WORDS.sub(" ", names.normalize(nom)).split()
                scored.append((fuzz.token_set_ratio(" ".join(wanted), " ".join(own)), sid))
            scored.sort(reverse=True)
            if scored and scored[0][0] >= 85 and (len(scored) == 1 or scored[1][0] < scored[0][0]):
                return scored[0][1], f"Mission locale « {nom_ml} » reconnue par son nom"
        label = " ".join(x for x in (code_ml, nom_ml) if x)
        return None, f"Mission locale « {label} » introuvable dans l'annuaire"


def plan_lines(
    conn: sqlite3.Connection, table: Table
) -> tuple[list[CoverageLine], dict[str, dict[str, Any]]]:
    """Read a coverage file; return its lines and, per Mission locale, {"codes": set, "refs": set}."""
    finder = MissionLocaleFinder(conn)
    lines: list[CoverageLine] = []
    per_ml: dict[str, dict[str, Any]] = {}
    flags: dict[str, list[tuple[int, bool]]] = {}
    communes_of: dict[str, set[str]] = {}
    for ligne, raw in table.rows():
        if not any(v.strip() for k, v in raw.items() if k not in NOTES):
            lines.append(CoverageLine(ligne, "vide"))
            continue
        line = CoverageLine(ligne, "rejete")
        lines.append(line)
        if raw.get("__erreur__"):  # the reader could not split this line into cells safely
            line.erreurs.append(raw["__erreur__"])
            continue
        try:
            code = clean.insee(raw.get("code_insee"))
        except clean.Invalid as err:
            line.erreurs.append(str(err))
            continue
        if not code:
            line.erreurs.append("code INSEE manquant")
            continue
        commune = store_communes.get(conn, code)
        if commune is None:
            olds = store_communes.ancienne(conn, code)
            commune = store_communes.get(conn, olds[0]["commune"]) if olds else None
            if commune is None:
                line.erreurs.append(f"code INSEE {code} inconnu")
                continue
            line.avertissements.append(f"{code} est une ancienne commune : rattachée à {commune['nom']}")
        name = (raw.get("commune") or "").strip()
        if name and names.strip_article(names.normalize(name)) != names.strip_article(
            names.normalize(commune["nom"])
        ):
            line.avertissements.append(f"« {name} » ne correspond pas au code {code} ({commune['nom']})")
        if raw.get("structure_id"):
            sid = raw["structure_id"].strip()
            if store_structures.get_stored(conn, sid) is None:
                line.erreurs.append(f"structure {sid} inconnue")
                continue
            note = None
        else:
            code_ml = (raw.get("code_ml") or "").strip()
            nom_ml = clean.text(raw.get("nom_ml")) or ""
            if not code_ml and not nom_ml:
                line.erreurs.append("Mission locale manquante (Code ML ou Nom Officiel ML)")
                continue
            sid, note = finder.find(code_ml, nom_ml)
            if sid is None:
                line.erreurs.append(note)
                continue
            if code_ml:
                per_ml.setdefault(sid, {"codes": set(), "refs": set()})["refs"].add(code_ml)
        if note:
            line.avertissements.append(note)
        line.code_insee, line.structure_id = commune["code"], sid
        entry = per_ml.setdefault(sid, {"codes": set(), "refs": set()})
        if commune["code"] in entry["codes"]:
            line.action = "inchange"
            line.avertissements.append("ligne en double")
            continue
        entry["codes"].add(commune["code"])
        communes_of.setdefault(commune["code"], set()).add(sid)
        if (raw.get("plusieurs") or "").strip():
            flags.setdefault(commune["code"], []).append((ligne, raw["plusieurs"].strip().lower() in _YES))
    for code, marks in flags.items():
        several = len(communes_of.get(code, ())) > 1
        for ligne, said in marks:
            if said != several:
                line = next(x for x in lines if x.ligne == ligne)
                line.avertissements.append(
                    "la colonne « Commune présente sur plusieurs ML » dit "
                    + ("oui" if said else "non")
                    + f" mais le fichier la liste pour {len(communes_of[code])} Mission(s) locale(s)"
                )
    current = {sid: set(store_coverage.codes_of(conn, sid)) for sid in per_ml}
    for line in lines:
        if line.structure_id and line.action == "rejete" and not line.erreurs:
            line.action = "inchange" if line.code_insee in current[line.structure_id] else "nouveau"
    return lines, per_ml

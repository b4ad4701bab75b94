"""Coverage lists: which communes each Mission locale is competent for (the network's file) → `couverture`.

The Missions locales network publishes `Code INSEE; Nom Commune; Code ML; Nom Officiel ML; Commune
présente sur plusieurs ML; Adresse ML; Code Postal ML; Ville ML` (';', UTF-8). The Mission locale of a
line is found from each column in turn, and the report says which one placed it:
1. `code`: a code already recorded for it, else the commune its code starts with (the network's codes
   are usually the INSEE code of the historic seat; i-milo codes such as "63003S00");
2. `nom`: the commune named in "NN-ML NAME", else a close name in its département;
3. `adresse`: the seat's commune (postcode + town), then the Mission locale there whose address is
   closest to the file's, then the one nearest to that commune's centre;
4. `hors_region`: a seat outside the home région is the Mission locale of another région: it becomes a
   structure of the directory (name, address, town from the file; no hours nor phone), sourced to the file.
Only published Missions locales receive coverage lines. A plain list `code_insee; structure_id` is read
too. A commune listed for several Missions locales keeps all of them.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz import fuzz

from .. import wording
from ..geo import addresses, codes, names
from ..geo.distance import haversine_km
from ..store import communes as store_communes
from ..store import coverage as store_coverage
from ..store import structures as store_structures
from . import clean
from .geocoders import OfflineGeocoder
from .pipeline import Options, PlanRow, RowPipeline
from .structures import source_date
from .table import NOTES, Table

_OFFICIAL = re.compile(r"^\s*(\d[\dAB])\s*[-–—]?\s*ML\s*[-–—]?\s*(.+)$", re.IGNORECASE)
_GENERIC_WORDS = re.compile(r"\b(mission|missions|locale|locales|ml|jeunes|pour|l|emploi|insertion)\b")
_YES = {"oui", "o", "yes", "y", "1", "true", "vrai", "x"}
# How alike (0-100) a seat address must be to a Mission locale's to tell it among several in one commune.
SEAT_ADDRESS_SCORE = 80
# What placed a line's Mission locale, in the report's words (the file's column names).
FOUND_BY = {
    "id": "colonne id_structure",
    "code": "Code ML",
    "nom": "Nom Officiel ML",
    "adresse": "Adresse ML, Code Postal ML, Ville ML",
    "hors_region": "Adresse ML, Code Postal ML, Ville ML (Mission locale d’une autre région)",
}


@dataclass
class CoverageLine:
    """One line of a coverage file and what it means."""

    ligne: int
    action: str  # "nouveau" (pair added), "inchange", "rejete"
    code_insee: str | None = None
    structure_id: str | None = None
    erreurs: list[str] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)
    trouvee_par: str | None = None  # a key of FOUND_BY

    def to_dict(self) -> dict[str, Any]:
        """Return the line as JSON-able data."""
        return dict(self.__dict__)


@dataclass
class Found:
    """The Mission locale a line names: its id and what placed it, or why none (`note` then an error)."""

    structure_id: str | None
    trouvee_par: str | None = None
    note: str | None = None
    creer: dict[str, Any] | None = None  # a Mission locale of another région to add to the directory


@dataclass
class CoveragePlan:
    """What a coverage file would do: its lines, per Mission locale its communes, and the structures
    (Missions locales of other régions) it would create."""

    lignes: list[CoverageLine]
    par_structure: dict[str, dict[str, Any]]
    structures: list[PlanRow]
    source: str
    date_maj: str | None


_ORDINAL = re.compile(r"\b(\d+)(?:eme|er|e)\b")


def _name_key(name: str) -> str:
    """A commune name compared: without article, "Lyon - 2ème Arrondissement" = "Lyon 2e Arrondissement"."""
    return _ORDINAL.sub(r"\1", names.strip_article(names.normalize(name)))


def list_date(filename: str, options: Options) -> str | None:
    """The vintage of a coverage list: the date the import was given, else the one its file name says
    (« zones_de_couverture_janvier_2026.csv » → 2026-01-01), else today."""
    if options.date_maj and options.date_maj != "today":
        return options.date_maj
    return date_in_name(filename) or date.today().isoformat()


def date_in_name(name: str) -> str | None:
    """The date a file name or address says (« …_janvier_2026.csv » → 2026-01-01), unless in the future."""
    found = source_date(re.sub(r"[_.]+", " ", name.rsplit("/", 1)[-1]))
    return found if found and found <= date.today().isoformat() else None


def seat_commune(
    conn: sqlite3.Connection,
    code_postal: str,
    ville: str,
    named: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
) -> dict[str, Any] | None:
    """Return the commune (arrondissement in Paris, Lyon, Marseille) a postcode and a town name give:
    the postcode's commune of that name, else its only commune, else the one of that name in the
    postcode's département."""
    cp = re.sub(r"\D", "", code_postal or "")
    key = _name_key(ville or "")
    if len(cp) == 4:  # a spreadsheet ate the leading zero
        cp = "0" + cp
    if len(cp) != 5 or not key:
        return None
    arrondissement = codes.arrondissement_of_postcode(cp)
    if arrondissement:
        found = store_communes.get(conn, arrondissement)
        city = store_communes.get(conn, found["commune_parent"]) if found else None
        if city and key.startswith(_name_key(city["nom"])):
            return found
    served = [c for c in store_communes.get_many(conn, store_communes.by_postcode(conn, cp)) if c]
    same = [c for c in served if _name_key(c["nom"]) == key]
    if len(same) == 1:
        return same[0]
    if len(served) == 1:
        return served[0]
    return commune_named(conn, ville, codes.departement_of_insee(cp), named if named is not None else {})


def commune_named(
    conn: sqlite3.Connection, name: str, departement: str, cache: dict[str, dict[str, list[dict[str, Any]]]]
) -> dict[str, Any] | None:
    """Return the one current commune of a département with this name (any case, accents, article,
    "St"), or None; the département's names are read once into `cache`."""
    if departement not in cache:
        by_name: dict[str, list[dict[str, Any]]] = {}
        for c in store_communes.communes_of_departement(conn, departement):
            by_name.setdefault(_name_key(c["nom"]), []).append(c)
        cache[departement] = by_name
    found = cache[departement].get(_name_key(name), [])
    return found[0] if len(found) == 1 else None


def readable_name(nom_ml: str, ville: str) -> str:
    """A Mission locale's name from the file's label: « 71-ML MACON » → « Mission locale de Mâcon »."""
    m = _OFFICIAL.match(nom_ml or "")
    label = (m.group(2) if m else nom_ml or "").strip(" -")
    if ville and names.normalize(label) == names.normalize(ville):
        return f"Mission locale {names.of(ville)}"
    return f"Mission locale {label.title()}" if label else f"Mission locale {names.of(ville)}"


class MissionLocaleFinder:
    """Finds the Mission locale a coverage line means; answers are cached per (code, name, seat)."""

    def __init__(self, conn: sqlite3.Connection, region: str | None = None):
        self.conn = conn
        self.region = region
        self.cache: dict[tuple[str, ...], Found] = {}
        self.named: dict[str, dict[str, list[dict[str, Any]]]] = {}  # département → name key → communes

    def published_ml(self, sid: str | None) -> dict[str, Any] | None:
        """Return the stored structure when it is a published Mission locale, else None."""
        s = store_structures.get_stored(self.conn, sid) if sid else None
        return s if s and s["type"] == "mission_locale" and s["statut"] == "publie" else None

    def _in_commune(self, code: str) -> list[dict[str, Any]]:
        """The published Missions locales seated in a commune (or its city's arrondissements), else the
        published Missions locales of the published antennes there."""
        commune = store_communes.get(self.conn, code)
        city = (commune or {}).get("commune_parent") or code
        # Only Paris, Lyon and Marseille have arrondissements: no need to ask the store for others'.
        count = codes.PLM[city][1] if city in codes.PLM else 0
        pool = [city] + [codes.arrondissement_code(city, n) for n in range(1, count + 1)]
        mls = [
            s
            for c in pool
            for s in store_structures.in_commune(self.conn, c, ("mission_locale",))
            if s["statut"] == "publie"
        ]
        if mls:
            return mls
        parents = {
            s["parent_id"]
            for c in pool
            for s in store_structures.in_commune(self.conn, c, ("antenne_mission_locale",))
            if s["parent_id"] and s["statut"] == "publie"
        }
        return [p for p in (self.published_ml(i) for i in sorted(parents)) if p]

    def find(self, code_ml: str, nom_ml: str, seat: dict[str, str] | None = None) -> Found:
        """Return the Mission locale a line names (see the module's docstring for the order)."""
        seat = seat or {}
        key = (code_ml, nom_ml, seat.get("adresse", ""), seat.get("code_postal", ""), seat.get("commune", ""))
        if key not in self.cache:
            self.cache[key] = self._find(code_ml, nom_ml, seat)
        return self.cache[key]

    def _find(self, code_ml: str, nom_ml: str, seat: dict[str, str]) -> Found:
        found = self._by_code(code_ml) or self._by_name(code_ml, nom_ml) or self._by_seat(seat)
        if found:
            return found
        label = " ".join(x for x in (code_ml, nom_ml) if x)
        why = f"Mission locale « {label} » introuvable dans l’annuaire"
        place = ", ".join(x for x in (seat.get("adresse"), seat.get("code_postal"), seat.get("commune")) if x)
        if place:
            why += (
                f" : ni son code, ni son nom, ni l’adresse de son siège ({place}) ne désignent une Mission "
            )
            why += "locale publiée"
            if seat.get("code_insee") is None:
                why += " (commune du siège introuvable)"
        return Found(None, note=why)

    def _by_code(self, code_ml: str) -> Found | None:
        if not code_ml:
            return None
        sid = store_structures.by_ref(self.conn, "code_ml", code_ml)
        if self.published_ml(sid):
            return Found(sid, "code")
        prefix = code_ml[:5].upper()
        if codes.is_insee_code(prefix):
            found = self._in_commune(prefix)
            if len(found) == 1:
                return Found(found[0]["id"], "code")
        return None

    def _by_name(self, code_ml: str, nom_ml: str) -> Found | None:
        m = _OFFICIAL.match(nom_ml or "")
        dep = codes.normalize_departement(m.group(1)) if m else None
        if not dep and code_ml and codes.is_insee_code(code_ml[:5]):
            dep = codes.departement_of_insee(code_ml[:5])
        if m and dep:
            named = commune_named(self.conn, m.group(2), dep, self.named)
            if named:
                found = self._in_commune(named["code"])
                if len(found) == 1:
                    return Found(found[0]["id"], "nom")
        if not nom_ml:
            return None
        wanted = " ".join(_GENERIC_WORDS.sub(" ", names.normalize(nom_ml)).split())
        scored = []
        for sid, nom, _t in store_structures.names_of_types(self.conn, ("mission_locale",)):
            s = self.published_ml(sid)
            if s is None or (dep and s["departement"] != dep):
                continue
            own = " ".join(_GENERIC_WORDS.sub(" ", names.normalize(nom)).split())
            scored.append((fuzz.token_set_ratio(wanted, own), sid))
        scored.sort(reverse=True)
        if scored and scored[0][0] >= 85 and (len(scored) == 1 or scored[1][0] < scored[0][0]):
            return Found(scored[0][1], "nom", f"Mission locale « {nom_ml} » reconnue par son nom")
        return None

    def _by_seat(self, seat: dict[str, str]) -> Found | None:
        """The Mission locale seated where the file's address columns say, or one of another région."""
        commune = seat.get("_commune")
        if commune is None:
            if seat.get("region_ml") and self.region and seat["region_ml"].strip() != self.region:
                place = " ".join(x for x in (seat.get("code_postal"), seat.get("commune")) if x)
                return Found(
                    None,
                    note=f"Mission locale d’une autre région (code {seat['region_ml'].strip()[:3]}) dont "
                    f"la commune du siège ({place or 'non donnée'}) est inconnue : non rattachée",
                )
            return None
        found = self._in_commune(commune["code"])
        if len(found) > 1:
            scores = sorted(
                ((addresses.similarity(seat.get("adresse"), s["adresse"]), s["id"]) for s in found),
                reverse=True,
            )
            if scores[0][0] >= SEAT_ADDRESS_SCORE and scores[1][0] < scores[0][0]:
                return Found(scores[0][1], "adresse")
            if commune["latitude"] is not None:
                located = [s for s in found if s["latitude"] is not None]
                if located:
                    best = min(
                        located,
                        key=lambda s: (
                            haversine_km(
                                commune["latitude"], commune["longitude"], s["latitude"], s["longitude"]
                            ),
                            s["id"],
                        ),
                    )
                    return Found(best["id"], "adresse")
        if found:
            return Found(found[0]["id"], "adresse")
        if self.region and commune.get("region") and commune["region"] != self.region:
            return Found(None, "hors_region", creer=commune)
        return None


def _seat_of(conn: sqlite3.Connection, raw: dict[str, str], cache: dict, named: dict) -> dict[str, Any]:
    """The seat columns of a line, and the commune they give (`_commune`, cached per postcode + town).

    Raises clean.Invalid for a cell that is too long or starts like a spreadsheet formula."""
    seat = {
        "adresse": clean.text(raw.get("adresse_ml"), "adresse") or "",
        "code_postal": (raw.get("code_postal_ml") or "").strip()[:10],
        "commune": clean.text(raw.get("ville_ml"), "commune") or "",
        "region_ml": (raw.get("region_ml") or "").strip()[:10],
    }
    if seat["code_postal"] or seat["commune"]:
        key = (seat["code_postal"], seat["commune"])
        if key not in cache:
            cache[key] = seat_commune(conn, *key, named)
        seat["_commune"] = cache[key]
        seat["code_insee"] = cache[key]["code"] if cache[key] else None
    return seat


def _new_mission_locale(
    pipeline: RowPipeline, ligne: int, code_ml: str, nom_ml: str, seat: dict[str, Any], region_nom: str
) -> PlanRow:
    """Plan the structure of a Mission locale of another région, from what the file says of it."""
    commune = seat["_commune"]
    raw = {
        "type": "mission_locale",
        "nom": readable_name(nom_ml, seat["commune"] or commune["nom"]),
        "adresse": seat["adresse"] or None,
        "code_postal": seat["code_postal"] or None,
        "commune": commune["nom"],
        "code_insee": commune["code"],
        "description": (
            f"Mission locale d’une autre région ({region_nom}) : elle couvre des communes de la région "
            "d’après la liste des communes couvertes du réseau des Missions locales "
            f"(« {nom_ml or code_ml} »). Ses horaires et son téléphone ne sont pas dans cette liste."
        ),
    }
    row = pipeline.prepare(ligne, raw, refs=[("code_ml", code_ml)] if code_ml else [])
    row = pipeline.finish(row)
    # The pipeline's note about a row outside the région is the point here: say it plainly instead.
    row.avertissements = [n for n in row.avertissements if "hors de la région" not in n]
    return row


def plan_lines(
    conn: sqlite3.Connection,
    table: Table,
    options: Options | None = None,
    region: str | None = None,
    filename: str = "fichier",
) -> CoveragePlan:
    """Read a coverage file; return its lines, per Mission locale {"codes", "refs", "siege",
    "trouvee_par", "code_ml", "nom_ml"}, and the Missions locales of other régions it would create."""
    options = options or Options()
    network = any(c in ("code_ml", "nom_ml") for c in table.columns)
    prefix = store_coverage.NETWORK_SOURCE if network else store_coverage.PLAIN_SOURCE
    source, date_maj = f"{prefix} : {filename}", list_date(filename, options)
    finder = MissionLocaleFinder(conn, region)
    pipeline: RowPipeline | None = None
    created: dict[str, PlanRow] = {}  # seat commune code → the planned structure
    seat_cache: dict[tuple[str, str], dict[str, Any] | None] = {}
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
            line.avertissements.append(f"{code} est une ancienne commune : rattachée à {commune['nom']}")
        name = (raw.get("commune") or "").strip()
        if name and _name_key(name) != _name_key(commune["nom"]):
            line.avertissements.append(f"« {name} » ne correspond pas au code {code} ({commune['nom']})")
        code_ml = (raw.get("code_ml") or "").strip()[:40]
        try:  # the file's words about a Mission locale may end up on a page or in a structure
            nom_ml = clean.text(raw.get("nom_ml"), "nom") or ""
            seat = None if raw.get("structure_id") else _seat_of(conn, raw, seat_cache, finder.named)
        except clean.Invalid as err:
            line.erreurs.append(str(err))
            continue
        if raw.get("structure_id"):
            sid = raw["structure_id"].strip()
            stored = store_structures.get_stored(conn, sid)
            if stored is None:
                line.erreurs.append(f"structure {sid[:120]} inconnue")
                continue
            if finder.published_ml(sid) is None:
                what = "un brouillon" if stored["statut"] == "brouillon" else "archivée"
                if stored["type"] != "mission_locale":
                    what = f"de type {stored['type']}"
                line.erreurs.append(
                    f"{sid} n’est pas une Mission locale publiée ({what}) : seules les Missions locales "
                    "publiées reçoivent une liste de communes couvertes"
                )
                continue
            found = Found(sid, "id")
        else:
            if not code_ml and not nom_ml:
                line.erreurs.append("Mission locale manquante (Code ML ou Nom Officiel ML)")
                continue
            found = finder.find(code_ml, nom_ml, seat)
            if found.creer is not None:
                row = created.get(found.creer["code"])
                if row is None:
                    if pipeline is None:
                        pipeline = RowPipeline(
                            conn,
                            OfflineGeocoder(),
                            Options(
                                origine=options.origine,
                                seed_only=options.seed_only,
                                source=source,
                                date_maj=date_maj,
                                far_km=options.far_km,
                                region=region,
                                hors_region=True,
                            ),
                        )
                    region_nom = store_communes.region_name(conn, found.creer["region"]) or "autre région"
                    row = created[found.creer["code"]] = _new_mission_locale(
                        pipeline, ligne, code_ml, nom_ml, seat, region_nom
                    )
                if row.structure is None:
                    line.erreurs.append(
                        f"Mission locale d’une autre région « {nom_ml or code_ml} » non créée : "
                        + " ; ".join(row.erreurs or row.avertissements or ["raison inconnue"])
                    )
                    continue
                found = Found(row.structure["id"], "hors_region")
            if found.structure_id is None:
                line.erreurs.append(found.note)
                continue
        sid = found.structure_id
        line.trouvee_par = found.trouvee_par
        if found.note:
            line.avertissements.append(found.note)
        entry = per_ml.setdefault(
            sid,
            {
                "codes": set(),
                "refs": set(),
                "siege": None,
                "trouvee_par": found.trouvee_par,
                "code_ml": code_ml,
                "nom_ml": nom_ml,
            },
        )
        if code_ml:
            entry["refs"].add(code_ml)
        if seat is not None and entry["siege"] is None and (seat["adresse"] or seat["commune"]):
            entry["siege"] = {
                "code_ml": code_ml or None,
                "nom_ml": nom_ml or None,
                "adresse": seat["adresse"] or None,
                "code_postal": seat["code_postal"] or None,
                "commune": seat["commune"] or None,
                "code_insee": seat.get("code_insee"),
            }
        line.code_insee, line.structure_id = commune["code"], sid
        if commune["code"] in entry["codes"]:
            line.action = "inchange"
            line.avertissements.append("ligne en double")
            continue
        entry["codes"].add(commune["code"])
        communes_of.setdefault(commune["code"], set()).add(sid)
        if (raw.get("plusieurs") or "").strip():
            flags.setdefault(commune["code"], []).append((ligne, raw["plusieurs"].strip().lower() in _YES))
    by_line = {x.ligne: x for x in lines}
    for code, marks in flags.items():
        several = len(communes_of.get(code, ())) > 1
        for ligne, said in marks:
            if said != several:
                by_line[ligne].avertissements.append(
                    "la colonne « Commune présente sur plusieurs ML » dit "
                    + ("oui" if said else "non")
                    + " mais le fichier la liste pour "
                    + wording.count(len(communes_of[code]), "Mission locale")
                )
    current = {sid: set(store_coverage.codes_of(conn, sid)) for sid in per_ml}
    for line in lines:
        if line.structure_id and line.action == "rejete" and not line.erreurs:
            line.action = "inchange" if line.code_insee in current[line.structure_id] else "nouveau"
    return CoveragePlan(lines, per_ml, [r for r in created.values() if r.structure], source, date_maj)

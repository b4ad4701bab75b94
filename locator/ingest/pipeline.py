"""One imported row → a proposed structure: clean values, place, stable id, match against the store.

The same steps serve the seed (`locator build`), admin CSVs, the DILA annuaire and the admin wizard.
Rows are processed one by one (files are streamed); only the ids and names met so far are kept.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from .. import phones, wording
from ..geo import names
from ..geo.distance import bbox_around
from ..hours import french, opening_hours
from ..store import communes as store_communes
from ..store import history as store_history
from ..store import structures as store_structures
from ..store.schema import STATUSES, STRUCTURE_FIELDS, STRUCTURE_TYPES
from ..store.scratch import Scratch, Spool
from . import clean, parents
from .dedupe import Matcher, same_but_for_form
from .geocoders import Geocoder
from .limits import Limits
from .place import Place, PlaceResolver, clean_place_values
from .structures import id_problem, slug, source_date, structure_id
from .table import NOTES

# Fields whose change makes an update (the source and the vintage alone do not).
CONTENT_FIELDS = tuple(f for f in STRUCTURE_FIELDS if f not in ("id", "source", "date_maj")) + ("statut",)
# Types that may describe the same place under two labels (an antenne recorded as a Mission locale).
FAMILIES = {
    "mission_locale": ("mission_locale", "antenne_mission_locale"),
    "antenne_mission_locale": ("mission_locale", "antenne_mission_locale"),
}
# Precision words, best first: a point is only replaced by one at least as precise (same commune).
PRECISION_RANK = {"source": 0, "adresse": 1, "rue": 2, "commune": 3}
NEAR_DUPLICATE_KM = 0.05
_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,119}$")

# Fields whose stored text is kept when the file writes it again differing only by case, accents or
# punctuation (names, addresses, contacts): an import never makes a stored value look worse.
FORM_ONLY_FIELDS = (
    "nom",
    "adresse",
    "complement_adresse",
    "telephone",
    "courriel",
    "site_web",
    "horaires_accueil",
    "description",
)
# What the admin decides for a row that only looks like a stored structure (« doublon probable »).
DUPLICATE_CHOICES = {
    "mettre_a_jour": "mettre à jour la fiche enregistrée",
    "garder": "garder les deux",
    "ignorer": "ne pas importer la ligne",
}

# Rows whose places are resolved together (one bulk point-in-commune step): big enough to amortise
# the spatial query, small enough that the rows read ahead cost little memory.
CHUNK_ROWS = 1000

ACTIONS = ("nouveau", "mis_a_jour", "inchange", "rejete", "doublon")


@dataclass
class Options:
    """How an import treats its rows.

    origine: recorded on the rows it writes ("import", "annuaire", "seed"); seed_only: update only rows
    whose origin is still the seed (and never re-create a row someone deleted); statut: of new rows;
    source / date_maj: used when a row gives none (date_maj "today" by default for admin files);
    choix_communes: line → INSEE code picked by the admin among the candidates of an ambiguous row;
    doublons: line → the admin's choice (DUPLICATE_CHOICES) for a row that only looks like a stored one;
    fichier: the file's name, added to the stored source of the structures it updates;
    corrections: line → {column: text} typed by the admin in the wizard, replacing the file's cells;
    region / hors_region: the home région, and whether rows outside it are wanted (kept with a warning).
    """

    origine: str = "import"
    seed_only: bool = False
    statut: str = "publie"
    source: str | None = None
    date_maj: str | None = "today"
    choix_communes: dict[int, str] = field(default_factory=dict)
    doublons: dict[int, str] = field(default_factory=dict)
    fichier: str | None = None
    corrections: dict[int, dict[str, str]] = field(default_factory=dict)
    far_km: float = 2.0
    max_bytes: int = 50 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)
    region: str | None = None
    hors_region: bool = False
    # What a refused row outside the région tells the person importing (the CLI names its option).
    hors_region_conseil: str = (
        "si elle est voulue, envoyez de nouveau le fichier en cochant « Accepter les structures hors région »"
    )

    def vintage(self) -> str | None:
        """Return the default vintage of rows: a date, or today when "today"."""
        return date.today().isoformat() if self.date_maj == "today" else self.date_maj


@dataclass
class PlanRow:
    """One row of a plan: what the import would do with it, and why."""

    ligne: int
    action: str
    structure: dict[str, Any] | None = None  # the stored row it would write (every stored column)
    avant: dict[str, Any] | None = None  # the stored row it would replace
    erreurs: list[str] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)
    communes_candidates: list[dict[str, str]] = field(default_factory=list)
    changements: list[str] = field(default_factory=list)  # fields that change
    refs: list[tuple[str, str]] = field(default_factory=list)  # external ids to record
    parent_nom: str | None = None
    # The stored structure a row only looks like: {"id", "nom", "choix"} (choix: None until decided).
    doublon: dict[str, Any] | None = None
    diff: list[dict[str, Any]] = field(default_factory=list)  # {"champ", "avant", "apres"} per change
    horaires_lus: dict[str, Any] | None = None  # hours as written and as read (see `_hours`)
    brut: dict[str, Any] | None = field(default=None, repr=False, compare=False)  # the cells as read

    def to_dict(self) -> dict[str, Any]:
        """Return the row as JSON-able data."""
        return {
            "ligne": self.ligne,
            "action": self.action,
            "structure": self.structure,
            "avant": self.avant,
            "erreurs": self.erreurs,
            "avertissements": self.avertissements,
            "communes_candidates": self.communes_candidates,
            "changements": self.changements,
            "refs": [list(r) for r in self.refs],
            "parent_nom": self.parent_nom,
            "doublon": self.doublon,
            "diff": self.diff,
            "horaires_lus": self.horaires_lus,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlanRow:
        """Rebuild a row from `to_dict` data."""
        return cls(**{**d, "refs": [tuple(r) for r in d.get("refs", [])]})

    def dumps(self) -> str:
        """Return the row as JSON text, cells as read included (a row waiting in a spool)."""
        return json.dumps({**self.to_dict(), "brut": self.brut}, ensure_ascii=False)

    @classmethod
    def loads(cls, text: str) -> PlanRow:
        """Rebuild a row from `dumps` text."""
        return cls.from_dict(json.loads(text))


def parse_date(value: str | None) -> str | None:
    """Return an ISO date from "2017-02-21", "21/02/2017", "21/02/2017 10:00:00" or an ISO datetime."""
    value = (value or "").strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise clean.Invalid(f"date illisible « {value[:30]} » (attendu : JJ/MM/AAAA)") from None


def _claim(seen: dict[str, str] | Scratch, key: str, value: str) -> str | None:
    """Set a key not set yet and return None, or return its value (one statement when spilled)."""
    if isinstance(seen, Scratch):
        return seen.claim(key, value)
    earlier = seen.setdefault(key, value)
    return None if earlier == value else earlier


def _add(seen: dict[str, str] | Scratch, key: str, value: str) -> None:
    """Set a key not set yet (a set key keeps its value; nothing is read back)."""
    if isinstance(seen, Scratch):
        seen.add(key, value)
    else:
        seen.setdefault(key, value)


class RowPipeline:
    """Turns raw rows ({canonical column: text}) into plan rows, against one store connection."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        geocoder: Geocoder,
        options: Options,
        spill: bool = False,
        offline: bool = False,
    ):
        """`spill`: keep the ids and names met, and the rows waiting for a parent, in TEMP tables
        (streamed imports of big files: memory does not grow with the file); `offline`: a job outside
        the web workers, where GeoPandas places the points (PlaceResolver)."""
        self.conn = conn
        self.spill = spill
        self.options = options
        self.places = PlaceResolver(conn, geocoder, options.far_km, offline=offline)
        self.matcher = Matcher(conn)
        # structure id → line that took it; name key → id, for parents named in the file.
        self.seen: dict[str, str] | Scratch = Scratch(conn) if spill else {}
        # Only structures that may be parents are named here (not antennes), as "id type".
        self.file_names: dict[str, str] | Scratch = Scratch(conn) if spill else {}
        # structure id → parent id, for the links this file makes (a loop may run through the file).
        self.links: dict[str, str] | Scratch = Scratch(conn) if spill else {}
        self._store_names: dict[str, list[tuple[str, str]]] | None = None
        self._published_missions: list[dict[str, Any]] | None = None  # for loose names and suggestions
        self._suggestions: parents.Suggestions | None = None
        self._suggested: dict[tuple, str] = {}  # (département, point, parent name) → the suggestions said
        self._loose: dict[tuple[str, str | None], dict[str, Any] | None] = {}  # (name, département) → ML
        self._region_names: dict[str, str | None] = {}
        self.older: list[int] = []  # lines left alone because the store holds newer information
        # Writes the rows before this one still owe the store (a streamed import batches them).
        self.unwritten: Callable[[], None] = lambda: None
        self.today = date.today().isoformat()
        # A vintage in the future would make every later import look older, so none would apply.
        self.latest_date = (date.today() + timedelta(days=options.limits.future_days)).isoformat()

    # -- values -------------------------------------------------------------------------------------
    def _values(self, raw: dict[str, Any], row: PlanRow) -> dict[str, Any] | None:
        errors, warnings = row.erreurs, row.avertissements
        v: dict[str, Any] = {}
        try:
            v["type"], note = clean.structure_type(raw.get("type"), STRUCTURE_TYPES)
            if note:
                warnings.append(note)
        except clean.Invalid as err:
            errors.append(str(err))
            v["type"] = None
        if not v["type"] and not errors:
            errors.append("type manquant")
        for key, multiline in (
            ("nom", False),
            ("adresse", False),
            ("complement_adresse", False),
            ("horaires_accueil", True),
            ("description", True),
            ("source", False),
            ("parent", False),
        ):
            try:
                v[key] = clean.text(raw.get(key), key, multiline=multiline)
            except clean.Invalid as err:
                errors.append(str(err))
                v[key] = None
        if not v["nom"] and not any("nom" in e for e in errors):
            errors.append("nom manquant")
        try:
            v["horaires_note"] = clean.text(raw.get("horaires_note"), "horaires_accueil", multiline=True)
        except clean.Invalid as err:
            errors.append(str(err).replace("horaires_accueil", "note sur les horaires", 1))
            v["horaires_note"] = None
        self._hours(v, row)
        # Imports and the admin form both pass here: hours every page would evaluate stay small.
        if problem := opening_hours.complexity_problem(v["horaires_accueil"]):
            errors.append(problem)
        for key, parse in (("telephone", clean.phone), ("courriel", clean.email)):
            try:
                v[key], note = parse(raw.get(key))
                if note:
                    warnings.append(note)
            except clean.Invalid as err:
                errors.append(str(err))
                v[key] = None
        try:
            v["site_web"] = clean.url(raw.get("site_web"))
        except clean.Invalid as err:
            errors.append(str(err))
            v["site_web"] = None
        try:
            v["date_maj"] = parse_date(raw.get("date_maj"))
        except clean.Invalid as err:
            warnings.append(f"{err} : ignorée")
            v["date_maj"] = None
        if v["date_maj"] and v["date_maj"] > self.latest_date:
            errors.append(
                f"date de mise à jour {v['date_maj']} dans le futur (au plus tard le {self.latest_date}) : "
                "refusée, elle bloquerait les mises à jour suivantes"
            )
        statut = (raw.get("statut") or "").strip().lower()
        if statut and statut not in STATUSES:
            errors.append(f"statut inconnu « {statut[:20]} » ({', '.join(STATUSES)})")
        v["statut"] = statut or None
        ident = (raw.get("id") or "").strip()
        if ident and not _ID.match(ident):
            errors.append(f"identifiant invalide « {ident[:40]} » (minuscules, chiffres, tirets)")
        v["id"] = ident or None
        if raw.get("__extra__"):
            warnings.append(
                f"{wording.count(raw['__extra__'], 'valeur')} au-delà des colonnes : "
                + ("ignorées" if int(raw["__extra__"]) > 1 else "ignorée")
            )
        if raw.get("__manque__"):
            warnings.append(
                f"{wording.count(raw['__manque__'], 'colonne manquante')} en fin de ligne : lues vides"
            )
        warnings += [raw[note] for note in ("__encodage__", "__repare__") if raw.get(note)]
        v.update(clean_place_values(raw, errors))
        errors[:] = list(dict.fromkeys(errors))  # a cell read by two steps is reported once
        return v

    def _hours(self, v: dict[str, Any], row: PlanRow) -> None:
        """Read the hours cell as French admins write it: OSM hours, a note, or (not understood) a
        note and a warning, never hours. `row.horaires_lus` says what was read, for the preview."""
        written = v["horaires_accueil"]
        v["horaires_lus"] = False  # True: the cell's reading replaces the stored hours and note
        if written is None:
            return
        reading = french.read(written)
        v["horaires_lus"] = reading.compris
        v["horaires_accueil"] = reading.horaires
        if reading.note and reading.note != v["horaires_note"]:
            v["horaires_note"] = "\n".join(n for n in (v["horaires_note"], reading.note) if n)
        if reading.horaires != written or reading.note:
            row.horaires_lus = {"texte": written, "osm": reading.horaires, "note": reading.note}
        if not reading.compris:
            row.avertissements.append(
                f"horaires non reconnus « {written[:80]} » ({reading.probleme})\u202f: gardés comme "
                "note pour la page publique, pas comme horaires\u202f; écrivez-les par exemple « du "
                "lundi au vendredi de 9h à 12h et de 14h à 17h »"
            )

    # -- matching -----------------------------------------------------------------------------------
    def _match(
        self,
        v: dict[str, Any],
        computed: str,
        refs: list[tuple[str, str]],
        row: PlanRow,
        ask: _Live,
    ):
        """Return (id, stored row or None) for the structure this row describes, from the answers the
        store gives now (`_Live`) or gave the second process (`Answers`)."""
        if v["id"]:
            return v["id"], ask.stored(v["id"])
        for espace, valeur in refs:
            sid = store_structures.by_ref(self.conn, espace, valeur)
            if sid:
                old = self._stored(sid)
                if old is not None:
                    return sid, old
        old = ask.stored(computed)
        if old is not None:
            return computed, old
        key = names.normalize(v["nom"])
        types = FAMILIES.get(v["type"], (v["type"],))
        if v.get("code_insee"):
            sid = ask.same_name(key, v["code_insee"], types, self.seen)
            if sid is not None:
                return sid, ask.stored(sid)
        found = None
        # Admin files are asked about names alike in the commune; the annuaire and the seed carry their
        # own ids, and a name longer by a word there is another office (« CIO de Clermont-Ferrand Nord »).
        if v.get("code_insee") and self.options.origine == "import":
            # Structures this file already updates are asked about too: two rows may describe one.
            found = ask.alike(key, v["code_insee"], types)
        if found is None and v.get("latitude") is not None:
            box = bbox_around(v["latitude"], v["longitude"], NEAR_DUPLICATE_KM)
            found = ask.near(key, box, types, self.seen)
        if found is None:
            return computed, None
        choice = self.options.doublons.get(row.ligne)
        choice = choice if choice in DUPLICATE_CHOICES else None
        row.doublon = {"id": found[0], "nom": found[1], "choix": choice}
        if choice == "garder":
            row.avertissements.append(
                f"doublon probable de « {found[1]} » (id {found[0]}) : les deux sont gardées, comme choisi"
            )
            return computed, None
        if choice == "mettre_a_jour":
            row.avertissements.append(
                f"doublon probable de « {found[1]} » (id {found[0]}) : la fiche enregistrée est mise à jour, "
                "comme choisi"
            )
        return found[0], ask.stored(found[0])

    def _stored(self, structure_id: str) -> dict[str, Any] | None:
        """The stored row of this id; a new id (most rows of a big file) costs no statement."""
        if not self.matcher.may_be_stored(structure_id):
            return None
        return store_structures.get_stored(self.conn, structure_id)

    # -- région -------------------------------------------------------------------------------------
    def _region_name(self, code: str) -> str:
        if code not in self._region_names:
            self._region_names[code] = store_communes.region_name(self.conn, code)
        return self._region_names[code] or f"région {code}"

    def _check_region(self, commune: dict[str, Any], row: PlanRow) -> None:
        """Refuse a commune outside the home région, or keep it with a warning when such rows are wanted."""
        home = self.options.region
        if not home or not commune.get("region") or commune["region"] == home:
            return
        where = f"{commune['nom']} ({commune['code']}) est en {self._region_name(commune['region'])}"
        if self.options.hors_region:
            row.avertissements.append(
                f"{where}, hors de la région {self._region_name(home)} : gardée (structures hors région "
                "acceptées pour cet import)"
            )
        else:
            row.erreurs.append(
                f"{where}, hors de la région {self._region_name(home)} : refusée ; "
                + self.options.hors_region_conseil
            )

    # -- parents ------------------------------------------------------------------------------------
    def _store_parent(self, key: str) -> list[tuple[str, str]]:
        """(id, type) of the stored structures of this name that may be parents (any status)."""
        if self._store_names is None:
            self._store_names = {}
            for sid, nom, type_ in store_structures.names_of_types(self.conn, parents.PARENT_TYPES):
                self._store_names.setdefault(names.normalize(nom), []).append((sid, type_))
        return self._store_names.get(key, [])

    def parent_known(self, name: str) -> bool:
        """Tell whether a parent name is already resolvable (in the file so far, or in the store)."""
        key = names.normalize(name)
        return key in self.file_names or bool(self._store_parent(key)) or bool(self._parent_by_id(name))

    def _parent_by_id(self, text: str) -> list[tuple[str, str]]:
        """(id, type) of the structure a parent cell names by its id (in the file so far, or stored)."""
        ident = text.strip()
        if not _ID.match(ident):
            return []
        in_file = self.file_names.get(f"#{ident}")
        if in_file is not None:
            sid, type_ = in_file.split(" ", 1)
            return [(sid, type_)]
        stored = store_structures.get_stored(self.conn, ident)
        if stored is None or stored["type"] not in parents.PARENT_TYPES:
            return []
        return [(ident, stored["type"])]

    def _missions(self) -> list[dict[str, Any]]:
        """The published Missions locales with their place (read once per import)."""
        if self._published_missions is None:
            self._published_missions = store_structures.published(self.conn, types=("mission_locale",))
        return self._published_missions

    def _parent_id(self, name: str, row: PlanRow) -> str | None:
        """The id of the structure a row names as its parent, when its type may have that parent."""
        s = row.structure
        allowed = parents.parent_types(s["type"])
        if not allowed:
            row.avertissements.append(f"{parents.type_refusal(s['type'], name, '')} : non rattachée")
            return None
        key = names.normalize(name)
        found: list[tuple[str, str]] = []
        in_file = self.file_names.get(key)
        if in_file is not None:
            sid, type_ = in_file.split(" ", 1)
            found.append((sid, type_))
        found += [(i, t) for i, t in self._store_parent(key) if all(i != f[0] for f in found)]
        if not found:
            found = self._parent_by_id(name)
        if not found and "mission_locale" in allowed:
            alike = self._loose_parent(name, s.get("departement"))
            if alike is not None and alike["id"] != s["id"]:
                row.avertissements.append(
                    f"Mission locale de rattachement « {name} » lue comme « {alike['nom']} »\u202f; vérifiez"
                )
                return alike["id"]
        found = [(i, t) for i, t in found if i != s["id"]]
        fitting = [(i, t) for i, t in found if t in allowed]
        if fitting and in_file is not None and fitting[0][0] == in_file.split(" ", 1)[0]:
            return fitting[0][0]  # the file's own structure of that name comes first
        if len(fitting) > 1:
            row.avertissements.append(
                f"plusieurs structures s’appellent « {name} » : rattachement à {fitting[0][0]} ; vérifiez"
            )
        if fitting:
            return fitting[0][0]
        if found:
            refusal = parents.type_refusal(s["type"], name, found[0][1])
            row.avertissements.append(f"structure parente refusée : {refusal} : non rattachée")
            return None
        row.avertissements.append(
            f"structure parente « {name} » introuvable : non rattachée" + self._closest_missions(name, row)
        )
        return None

    def _loose_parent(self, name: str, departement: str | None) -> dict[str, Any] | None:
        """The Mission locale of the département a loosely written parent name means (asked once per name)."""
        key = (name, departement)
        if key not in self._loose:
            if len(self._loose) > 1000:
                self._loose.clear()
            self._loose[key] = parents.match_mission_locale(name, self._missions(), departement)
        return self._loose[key]

    def _closest_missions(self, name: str | None, row: PlanRow) -> str:
        """For an antenne, the end of a warning naming Missions locales of its département, nearest first."""
        s = row.structure
        if not s or s["type"] != "antenne_mission_locale":
            return ""
        point = (s["latitude"], s["longitude"]) if s.get("latitude") is not None else None
        key = (s.get("departement"), point, name)
        said = self._suggested.get(key)
        if said is None:
            if self._suggestions is None:
                self._suggestions = parents.Suggestions(self._missions())
            found = self._suggestions.suggest(s.get("departement"), point, name)
            said = (
                f" ; Missions locales les plus proches\u202f: {parents.suggestions_text(found)}"
                if found
                else ""
            )
            if len(self._suggested) > 1000:
                self._suggested.clear()
            self._suggested[key] = said
        return said

    # -- the row ------------------------------------------------------------------------------------
    def prepare(
        self,
        ligne: int,
        raw: dict[str, Any],
        refs: Iterable[tuple[str, str]] = (),
        precision: str | None = None,
    ) -> PlanRow | None:
        """Check and place one raw row; None for an entirely empty line. Parents are linked by `finish`."""
        started = self._begin(ligne, raw, refs, precision)
        if started is None or started[1] is None:
            return None if started is None else started[0]
        row, v = started
        return self._placed(row, v, self.places.resolve(v))

    def _begin(
        self, ligne: int, raw: dict[str, Any], refs: Iterable[tuple[str, str]], precision: str | None
    ) -> tuple[PlanRow, dict[str, Any] | None] | None:
        """Read a row's values: None for an empty line, (row, None) when refused, else (row, values)."""
        if ligne in self.options.corrections:
            raw = {**raw, **self.options.corrections[ligne]}
        if not any((str(x).strip() if x is not None else "") for k, x in raw.items() if k not in NOTES):
            return None
        row = PlanRow(ligne=ligne, action="rejete", refs=list(refs))
        if raw.get("__erreur__"):  # the reader could not split this line into cells safely
            row.erreurs.append(raw["__erreur__"])
            return row, None
        v = self._values(raw, row)
        if row.erreurs:
            return row, None
        v["choix_commune"] = self.options.choix_communes.get(ligne)
        v["precision"] = precision
        return row, v

    def _placed(
        self, row: PlanRow, v: dict[str, Any], place: Place, answers: Answers | None = None
    ) -> PlanRow:
        """Finish a row whose place is resolved: région, id, match against the store and the file
        (`answers`: what the store said about it in the second process, when it read the row)."""
        if place.street_cut:  # the postcode and commune written in it are stored in their own fields
            v["adresse"] = place.adresse
        row.erreurs += place.errors
        row.avertissements += place.warnings
        row.communes_candidates = place.candidates
        if row.erreurs:
            return row
        commune = place.commune
        self._check_region(commune, row)
        if row.erreurs:
            return row
        v["code_insee"] = commune["code"]
        v["latitude"], v["longitude"] = place.latitude, place.longitude
        computed = structure_id(v["type"], v["nom"], commune["code"])
        ask = _Live(self) if answers is None else _Recorded(self, answers)
        sid, old = self._match(v, computed, row.refs, row, ask)
        if old is None:  # a new structure's id: safe, and no word of the site's paths
            if v["id"]:
                problem = id_problem(sid)
            elif not slug(v["nom"]):
                problem = (
                    f"le nom « {v['nom'][:60]} » n’a ni lettre latine ni chiffre : impossible d’en faire "
                    "un identifiant (dans un fichier, ajoutez une colonne id)"
                )
            else:
                problem = None
            if problem:
                row.erreurs.append(problem)
        if row.erreurs:
            return row
        undecided = row.doublon is not None and row.doublon["choix"] in (None, "ignorer")
        earlier = None if undecided else _claim(self.seen, sid, str(row.ligne))
        if earlier is not None:
            row.erreurs.append(
                f"doublon de la ligne {earlier} (même structure : {sid}) ; s’il s’agit de deux "
                "structures, donnez-leur un identifiant (colonne id)"
            )
            return row
        if v["type"] in parents.PARENT_TYPES and not undecided:
            _add(self.file_names, names.normalize(v["nom"]), f"{sid} {v['type']}")
            _add(self.file_names, f"#{sid}", f"{sid} {v['type']}")  # a parent cell may give its id
        source = v["source"] or self.options.source
        vintage = v["date_maj"] or self._source_date(v["source"]) or self.options.vintage()
        new = {
            "id": sid,
            "type": v["type"],
            "nom": v["nom"],
            "adresse": v["adresse"],
            "complement_adresse": v["complement_adresse"],
            "code_postal": place.code_postal,
            "commune": self._town(commune),
            "code_insee": commune["code"],
            "departement": commune["departement"],
            "latitude": place.latitude,
            "longitude": place.longitude,
            "telephone": v["telephone"],
            "courriel": v["courriel"],
            "site_web": v["site_web"],
            "horaires_accueil": v["horaires_accueil"],
            "horaires_note": v["horaires_note"],
            "parent_id": None,
            "description": v["description"],
            "source": source,
            "date_maj": vintage,
            "precision_geocodage": place.precision if place.latitude is not None else None,
            "statut": v["statut"],
        }
        given_point = v.get("latitude") is not None and place.precision not in ("commune", "rue", "adresse")
        row.structure = self._merge(new, old, given_point, v["source"], row)
        if v["horaires_lus"]:
            # Hours read from the cell replace the stored hours and note together (« sur rendez-vous »
            # replaces stored hours, new hours an old note); hours not understood replace nothing.
            row.structure["horaires_accueil"] = v["horaires_accueil"]
            row.structure["horaires_note"] = v["horaires_note"]
        row.avant = old
        row.parent_nom = v["parent"]
        return row

    def _source_date(self, source: str | None) -> str | None:
        """The vintage a source text gives, unless it lies in the future (a typo, or a hostile file)."""
        found = source_date(source)
        return found if found and found <= self.latest_date else None

    def _town(self, commune: dict[str, Any]) -> str:
        """Return the name people write for a commune: "Lyon" for Lyon 3e Arrondissement."""
        if commune.get("commune_parent"):
            parent = self.places.commune(commune["commune_parent"])
            if parent:
                return parent["nom"]
        return commune["nom"]

    def _merge(
        self,
        new: dict[str, Any],
        old: dict[str, Any] | None,
        given_point: bool,
        given_source: str | None = None,
        row: PlanRow | None = None,
    ) -> dict[str, Any]:
        """Return the row to store: empty cells keep the stored value; an unchanged place keeps its point;
        a stored text the file writes again differing only by form stays; the stored source is kept."""
        if old is None:
            out = {k: new.get(k) for k in store_structures.STORED_COLUMNS}
            out["statut"] = new["statut"] or self.options.statut
            out["origine"] = self.options.origine
            return out
        out = dict(old)
        for k, value in new.items():
            if k in ("latitude", "longitude", "precision_geocodage"):
                continue
            if k == "telephone" and value and old.get(k) and phones.to_e164(old[k]) == value:
                continue  # the stored number written the older way: the same number, not a change
            if k in FORM_ONLY_FIELDS and same_but_for_form(old.get(k), value):
                if row is not None:
                    row.avertissements.append(
                        f"{k} : « {old[k]} » gardé ; le fichier écrit « {value} » (seuls les majuscules, "
                        "les accents ou la ponctuation diffèrent)"
                    )
                continue
            if value is not None:
                out[k] = value
        out["source"] = self._kept_source(old.get("source"), given_source, new.get("source"))
        same_place = all(
            (new.get(k) or None) == (old.get(k) or None) or new.get(k) is None
            for k in ("adresse", "code_postal", "code_insee")
        )
        # A geocoded point never replaces a more precise one stored for the same commune.
        coarser = (
            not given_point
            and new.get("code_insee") == old.get("code_insee")
            and PRECISION_RANK.get(new.get("precision_geocodage"), 9)
            > PRECISION_RANK.get(old.get("precision_geocodage"), 9)
        )
        if old.get("latitude") is None or (not coarser and (given_point or not same_place)):
            for k in ("latitude", "longitude", "precision_geocodage"):
                out[k] = new[k]
        return out

    def _kept_source(self, stored: str | None, given: str | None, default: str | None) -> str | None:
        """The source of an updated structure: the stored one, with the file (or the source its row
        cites) added to it; the importer's own source for annuaire and seed updates."""
        if self.options.origine != "import" or self.options.seed_only or not stored:
            return default if default is not None else stored
        added = given or (
            f"fichier importé {self.options.fichier} ({self.today})" if self.options.fichier else default
        )
        if not added or names.fold(added) in names.fold(stored):
            return stored
        return f"{stored}; {added}"

    def finish(self, row: PlanRow) -> PlanRow:
        """Link the parent, compare with the stored row and decide the action."""
        if row.erreurs or row.structure is None:
            row.action = "rejete"
            row.structure = None if row.erreurs else row.structure
            return row
        s = row.structure
        old = row.avant
        if row.doublon is not None and row.doublon["choix"] in (None, "ignorer"):
            # Never an automatic update: the row waits for the admin's choice; it shows what would change.
            row.action = "doublon"
            row.changements = [f for f in CONTENT_FIELDS if s.get(f) != old.get(f)]
            row.diff = _diff(s, old, row.changements)
            return row
        if old is not None and old.get("type") != s["type"]:
            self.unwritten()  # the children this file gave it so far must be in the store
            problem = parents.children_refusal(self.conn, s["id"], s["type"])
            if problem:
                row.erreurs.append(f"changement de type refusé : {problem}")
                row.action, row.structure = "rejete", None
                return row
        if row.parent_nom:
            parent = self._parent_id(row.parent_nom, row)
            chain = parents.loop(self.conn, s["id"], parent, self.links) if parent else None
            if parent == s["id"]:
                row.avertissements.append("une structure ne peut pas être sa propre parente : ignoré")
            elif chain:
                row.avertissements.append(
                    f"{parents.loop_refusal(self.conn, chain, s['nom'])} : non rattachée"
                )
            elif parent:
                s["parent_id"] = parent
                self.links[s["id"]] = parent
        elif s["type"] == "antenne_mission_locale" and not s.get("parent_id"):
            row.avertissements.append(
                "antenne sans Mission locale de rattachement (colonne parent vide) : non rattachée"
                + self._closest_missions(None, row)
            )
        if old is None:
            if self.options.seed_only and store_history.has_history(self.conn, s["id"]):
                row.action = "inchange"  # someone deleted it since the seed created it: stays deleted
                row.avertissements.append("supprimée depuis par un administrateur : non recréée")
                row.structure = None
                return row
            row.action = "nouveau"
            row.changements = [f for f in CONTENT_FIELDS if s.get(f) is not None]
            return row
        row.changements = [f for f in CONTENT_FIELDS if s.get(f) != old.get(f)]
        if not row.changements:
            row.action = "inchange"
            return row
        if self.options.seed_only and old.get("origine") not in (None, "seed"):
            row.action = "inchange"
            row.changements = []
            return row
        if old.get("date_maj") and s.get("date_maj") and s["date_maj"] < old["date_maj"]:
            self.older.append(row.ligne)
            row.action = "inchange"
            row.changements = []
            return row
        s["origine"] = self.options.origine
        row.action = "mis_a_jour"
        row.diff = _diff(s, old, row.changements)
        return row

    def run(
        self,
        rows: Iterable[tuple[int, dict[str, Any], dict[str, Any]]],
        fronted: Iterable[list[Fronted]] | None = None,
    ) -> Iterator[PlanRow]:
        """Yield finished plan rows; rows naming a parent not met yet wait until the end of the file.

        Each input is (line, raw values, extras: {"refs": [...], "precision": ...}). `fronted`: the rows
        as `front` gave them, chunk after chunk, in another process (`rows` is then not read).
        """
        waiting: list[PlanRow] | Spool = Spool(self.conn) if self.spill else []
        prepared = (
            self._prepared(rows)
            if fronted is None
            else (self._back(item) for chunk in fronted for item in chunk)
        )
        for ligne, raw, extras, row in prepared:
            if extras.get("erreur"):  # a record the reader could not understand
                yield PlanRow(ligne=ligne, action="rejete", erreurs=[extras["erreur"]], brut=raw)
                continue
            if row is None:
                yield PlanRow(ligne=ligne, action="vide")
                continue
            row.brut = raw
            if extras.get("note"):
                row.avertissements.insert(0, extras["note"])
            if row.parent_nom and not row.erreurs and not self.parent_known(row.parent_nom):
                if isinstance(waiting, Spool):
                    waiting.append(row.dumps())
                else:
                    waiting.append(row)
                continue
            yield self.finish(row)
        for item in waiting:
            yield self.finish(PlanRow.loads(item) if isinstance(item, str) else item)
        if isinstance(waiting, Spool):
            waiting.close()
        for scratch in (self.seen, self.file_names, self.links):
            if isinstance(scratch, Scratch):
                scratch.close()

    def _prepared(
        self, rows: Iterable[tuple[int, dict[str, Any], dict[str, Any]]]
    ) -> Iterator[tuple[int, dict[str, Any], dict[str, Any], PlanRow | None]]:
        """Yield (line, raw, extras, prepared row or None when empty), CHUNK_ROWS rows placed at a time.

        The places of a chunk are resolved together (one bulk point-in-commune step); the rest of each
        row (matching against the store and the rows before it) still runs one row at a time, in order,
        as the caller consumes them: places read only the reference geography, which imports never change.
        """
        chunk: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        for item in rows:
            chunk.append(item)
            if len(chunk) >= CHUNK_ROWS:
                yield from self._prepare_chunk(chunk)
                chunk = []
        if chunk:
            yield from self._prepare_chunk(chunk)

    def _prepare_chunk(
        self, chunk: list[tuple[int, dict[str, Any], dict[str, Any]]]
    ) -> Iterator[tuple[int, dict[str, Any], dict[str, Any], PlanRow | None]]:
        for item in self.front(chunk):
            yield self._back(item)

    def front(
        self, chunk: list[tuple[int, dict[str, Any], dict[str, Any]]], ask: bool = False
    ) -> list[Fronted]:
        """Read and place a chunk of rows: what reads only the file, the options and the store as it was
        before the import (no row before), so another process may do it (ingest.front).

        Each item is (line, raw, extras, None for an empty line or (row, values or None when refused),
        the place of a row with values, and with `ask` what the store says of the structure it may be)."""
        started = [
            None
            if extras.get("erreur")
            else self._begin(ligne, raw, extras.get("refs", ()), extras.get("precision"))
            for ligne, raw, extras in chunk
        ]
        values = [s[1] for s in started if s is not None and s[1] is not None]
        places = iter(self.places.resolve_many(values))
        out: list[Fronted] = []
        for (ligne, raw, extras), begun in zip(chunk, started, strict=True):
            place = next(places) if begun is not None and begun[1] is not None else None
            answers = self._ask(begun[0], begun[1], place) if ask and place is not None else None
            out.append((ligne, raw, extras, begun, place, answers))
        return out

    def _back(self, item: Fronted) -> tuple[int, dict[str, Any], dict[str, Any], PlanRow | None]:
        """Finish a row `front` read and placed: match it against the store and the rows before it."""
        ligne, raw, extras, begun, place, answers = item
        if begun is None or begun[1] is None:
            return ligne, raw, extras, None if begun is None else begun[0]
        return ligne, raw, extras, self._placed(begun[0], begun[1], place, answers)

    def _ask(self, row: PlanRow, v: dict[str, Any], place: Place) -> Answers | None:
        """Put to the store every question `_match` may ask about this row (which ones it asks depends
        on the rows before, known only to the importing process); None when it asks none of them."""
        if place.errors or not place.commune or row.refs:
            return None
        code = place.commune["code"]
        key = names.normalize(v["nom"])
        types = FAMILIES.get(v["type"], (v["type"],))
        same_names: list[str] = []
        alike_found = None
        nears: list[tuple[str, str]] = []
        if not v["id"]:
            same_names = self.matcher.same_names_in_commune(key, code, types)
            if self.options.origine == "import":
                alike_found = self.matcher.alike_in_commune(key, code, types, ())
            if place.latitude is not None:
                box = bbox_around(place.latitude, place.longitude, NEAR_DUPLICATE_KM)
                nears = list(self.matcher.near_duplicates(key, box, types))
        ids = [v["id"] or structure_id(v["type"], v["nom"], code), *same_names]
        ids += [found[0] for found in [alike_found, *nears] if found]
        rows = {sid: self._stored(sid) for sid in ids}
        if not same_names and alike_found is None and not nears and not any(rows.values()):
            return NOTHING_FOUND  # most rows of a big file: one object for all, in each chunk sent
        return Answers(rows, same_names, alike_found, nears)

    def notes(self) -> list[str]:
        """Return the remarks about the whole file, once every row is through."""
        if not self.older:
            return []
        lines = ", ".join(map(str, self.older[:30])) + (" …" if len(self.older) > 30 else "")
        return [
            f"{wording.count(len(self.older), 'ligne non appliquée', 'lignes non appliquées')}"
            f" : les fiches enregistrées sont plus récentes que "
            f"ce fichier (lignes {lines})"
        ]


class _Live:
    """`_match`'s questions, asked of the store and the file now."""

    def __init__(self, pipeline: RowPipeline):
        self.pipeline = pipeline

    def stored(self, structure_id: str) -> dict[str, Any] | None:
        return self.pipeline._stored(structure_id)

    def same_name(self, key: str, code: str, types: Sequence[str], skip) -> str | None:
        return self.pipeline.matcher.same_name_in_commune(key, code, types, skip)

    def alike(self, key: str, code: str, types: Sequence[str]) -> tuple[str, str] | None:
        return self.pipeline.matcher.alike_in_commune(key, code, types, ())

    def near(self, key: str, box: tuple[float, float, float, float], types: Sequence[str], skip):
        return self.pipeline.matcher.near_duplicate(key, box, types, skip)


class Answers(NamedTuple):
    """`_match`'s questions about one row, answered by the second process from the store as it was
    before the import (`RowPipeline._ask`)."""

    rows: dict[str, dict[str, Any] | None]  # id → stored row
    same_names: list[str]
    alike_found: tuple[str, str] | None
    nears: list[tuple[str, str]]


# A row the store knows nothing of (no stored row, no name alike): `_Recorded` reads its id live, which
# the store read whole at the start answers without a statement.
NOTHING_FOUND = Answers({}, [], None, [])


class _Recorded(_Live):
    """`_match`'s questions, from `Answers`, with what the rows before changed: the ids the file already
    took are skipped, and a structure it already took is read again from the store."""

    def __init__(self, pipeline: RowPipeline, answers: Answers):
        super().__init__(pipeline)
        self.answers = answers

    def stored(self, structure_id: str) -> dict[str, Any] | None:
        if structure_id in self.answers.rows and structure_id not in self.pipeline.seen:
            return self.answers.rows[structure_id]
        return self.pipeline._stored(structure_id)

    def same_name(self, key: str, code: str, types: Sequence[str], skip) -> str | None:
        return next((sid for sid in self.answers.same_names if sid not in skip), None)

    def alike(self, key: str, code: str, types: Sequence[str]) -> tuple[str, str] | None:
        return self.answers.alike_found

    def near(self, key: str, box: tuple[float, float, float, float], types: Sequence[str], skip):
        return next((found for found in self.answers.nears if found[0] not in skip), None)


# A row as `RowPipeline.front` leaves it: (line, raw, extras, None or (row, values or None), place or None).
Fronted = tuple[
    int,
    dict[str, Any],
    dict[str, Any],
    tuple[PlanRow, dict[str, Any] | None] | None,
    Place | None,
    Answers | None,
]


def _diff(new: dict[str, Any], old: dict[str, Any], changed: list[str]) -> list[dict[str, Any]]:
    """Return each changed field as {"champ", "avant", "apres"}, the source and the date included."""
    fields = [*changed, *(f for f in ("source", "date_maj") if new.get(f) != old.get(f))]
    return [{"champ": f, "avant": old.get(f), "apres": new.get(f)} for f in fields]

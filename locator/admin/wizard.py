"""The admin import wizard's steps between upload and confirmation, over the import pipeline.

A pending import keeps the uploaded bytes and the admin's fixes (a field's new value, a point, the
commune picked for an ambiguous postcode), keyed by file line. Every fix plans the whole file again,
so that cross-row checks (duplicates, parents named in the file) stay right; the plan is streamed into
the accounts file a page at a time (store/pending.py), never held whole in memory.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from ..ingest import clean, geocoders, table
from ..ingest.importer import ImportPlan, count, new_counts, plan_rows
from ..ingest.importer import sniff as sniff_genre
from ..ingest.limits import Limits
from ..ingest.pipeline import DUPLICATE_CHOICES, Options, PlanRow
from ..store import pending as store_pending
from ..store.schema import STRUCTURE_TYPES
from .editing import FORM_FIELDS

if TYPE_CHECKING:  # sqlite-utils is heavy: the writer connection brings it in
    import sqlite_utils

# Columns a fix may set: those of the structure form (import-format names), and the parent's name.
FIXABLE = (*FORM_FIELDS, "parent")
ACTION_LABELS = {
    "nouveau": "nouveau",
    "mis_a_jour": "mis à jour",
    "inchange": "inchangé",
    "rejete": "rejeté",
    "doublon": "doublon probable",
}


def new_reglages(statut: str, hors_region: bool = False) -> dict[str, Any]:
    """Return the fixes of a fresh upload: none yet, the status new rows get, out-of-région rows wanted."""
    return {
        "statut": statut,
        "corrections": {},
        "choix_communes": {},
        "doublons": {},
        "hors_region": hors_region,
    }


def sniff(contenu: bytes, settings: dict[str, Any]) -> str | None:
    """Return why an upload is not a structures CSV, from its first bytes and header alone, else None."""
    try:
        genre = sniff_genre(contenu, int(settings["IMPORT_MAX_BYTES"]), Limits.from_settings(settings))
    except table.FileProblem as err:
        return str(err)
    if genre != "structures":
        what = "l'annuaire DILA (JSON)" if genre == "annuaire" else "une liste de communes couvertes"
        return (
            f"Ce fichier n’est pas un tableau de structures (il ressemble à {what}) : "
            "importez-le avec « locator import »."
        )
    return None


def _options(reglages: dict[str, Any], settings: dict[str, Any]) -> Options:
    return Options(
        statut=reglages["statut"],
        choix_communes={int(k): v for k, v in reglages["choix_communes"].items()},
        corrections={int(k): v for k, v in reglages["corrections"].items()},
        doublons={int(k): v for k, v in (reglages.get("doublons") or {}).items()},
        far_km=float(settings.get("FAR_FROM_COMMUNE_KM", 2.0)),
        max_bytes=int(settings["IMPORT_MAX_BYTES"]),
        limits=Limits.from_settings(settings),
        region=str(settings["REGION"]),
        hors_region=bool(reglages.get("hors_region")),
    )


def plan_upload(
    conn: sqlite3.Connection,
    auth: sqlite_utils.Database,
    item_id: int,
    contenu: bytes,
    fichier: str,
    reglages: dict[str, Any],
    settings: dict[str, Any],
    known_answers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Plan the file with the admin's fixes into a new version of the upload's stored plan, a page at a
    time (nothing is written to the directory), make it current and return its summary.

    `conn` reads the store and holds the plan's working maps (TEMP tables); `auth` writes the accounts
    file. Memory stays flat whatever the size of the file. Raises FileProblem when the file cannot be
    imported at all (the plan before, if any, stays current).
    """
    header, rows = plan_rows(
        conn,
        contenu,
        fichier,
        _geocoder(settings, known_answers),
        _options(reglages, settings),
        region=settings["REGION"],
    )
    with auth.atomic():
        version = store_pending.new_version(auth, item_id)
    writer = store_pending.PlanWriter(auth, item_id, version)
    fixed = {*reglages["corrections"], *reglages["choix_communes"], *(reglages.get("doublons") or {})}
    counts, points = new_counts(), 0
    try:
        for row in rows:
            count(counts, row.action)
            if row.action == "vide":
                continue
            record = _record(row, reglages)
            point = _point(row, reglages)
            points += point is not None
            writer.add(record, str(row.ligne) in fixed, point)
        writer.close()
    except BaseException:
        store_pending.discard(auth, item_id, version)
        raise
    resume = {
        "sha256": header.sha256,
        "genre": header.genre,
        "taille": header.taille,
        "avertissements": header.avertissements,
        "enregistrements": header.enregistrements,
        "geocache": header.geocache,
        "comptes": counts,
        "points": points,
    }
    with auth.atomic():
        store_pending.publish(auth, item_id, version, reglages, resume)
    store_pending.sweep(auth)
    return resume


def header_of(item: dict[str, Any]) -> ImportPlan:
    """Return the plan of a stored upload without its rows (they are read a page at a time)."""
    resume = item["resume"]
    return ImportPlan(
        fichier=item["fichier"],
        sha256=resume["sha256"],
        genre=resume["genre"],
        taille=resume.get("taille", 0),
        avertissements=list(resume.get("avertissements") or []),
        enregistrements=resume.get("enregistrements"),
        geocache=dict(resume.get("geocache") or {}),
    )


def plan_row(record: dict[str, Any]) -> PlanRow:
    """Return the plan row a stored record describes (what the confirmation writes)."""
    return PlanRow(
        ligne=record["ligne"],
        action=record["action"],
        structure=record.get("structure"),
        avant=record.get("avant"),
        erreurs=record.get("erreurs") or [],
        avertissements=record.get("avertissements") or [],
        communes_candidates=record.get("communes_candidates") or [],
        changements=record.get("changements") or [],
        refs=[tuple(r) for r in record.get("refs") or []],
        doublon=record.get("doublon"),
        diff=record.get("diff") or [],
        horaires_lus=record.get("horaires_lus"),
    )


def _record(row: PlanRow, reglages: dict[str, Any]) -> dict[str, Any]:
    """What the wizard keeps of a planned row: what it would write, why, and what the preview shows.

    `nom` and `commune` are what the row would store, or for a rejected row what the file (or a fix)
    says; `brut` is the row's cells as read, for its fix form.
    """
    s = row.structure
    if s:
        nom, commune = s.get("nom"), f"{s.get('commune') or ''} ({s.get('code_insee')})"
    else:
        values = {**(row.brut or {}), **reglages["corrections"].get(str(row.ligne), {})}
        nom = values.get("nom")
        commune = " ".join(v for v in (values.get("code_postal"), values.get("commune")) if v)
    out: dict[str, Any] = {"ligne": row.ligne, "action": row.action}
    out.update(nom=nom or "", commune=commune.strip())
    if s:
        out["structure"] = s
    if row.action in ("mis_a_jour", "doublon"):
        out["avant"] = row.avant
    for key in (
        "erreurs",
        "avertissements",
        "communes_candidates",
        "changements",
        "refs",
        "doublon",
        "diff",
        "horaires_lus",
    ):
        if getattr(row, key):
            out[key] = getattr(row, key)
    out["brut"] = {k: v for k, v in (row.brut or {}).items() if v not in (None, "")}
    return out


def _raw_point(raw: dict[str, str]) -> tuple[float, float] | None:
    try:
        lat = float((raw.get("latitude") or "").replace(",", ".").strip())
        lon = float((raw.get("longitude") or "").replace(",", ".").strip())
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None


def _point(row: PlanRow, reglages: dict[str, Any]) -> tuple[float, float] | None:
    """Where the map shows a row: where it would be stored, or for a rejected one where the file (or a
    fix) puts it; None when nowhere."""
    s = row.structure or {}
    if s.get("latitude") is not None and s.get("longitude") is not None:
        return s["latitude"], s["longitude"]
    return _raw_point({**(row.brut or {}), **reglages["corrections"].get(str(row.ligne), {})})


def feature(record: dict[str, Any]) -> dict[str, Any]:
    """Return a stored row that has a point (`latitude`, `longitude`) as a GeoJSON Feature for the map."""
    s = record.get("structure") or {}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [record["longitude"], record["latitude"]]},
        "properties": {
            "ligne": record["ligne"],
            "action": record["action"],
            "libelle": ACTION_LABELS.get(record["action"], record["action"]),
            "nom": record.get("nom"),
            "commune": s.get("commune") or record.get("commune"),
            "precision": s.get("precision_geocodage"),
            "messages": list(record.get("erreurs") or []) + list(record.get("avertissements") or []),
        },
    }


def view(record: dict[str, Any], reglages: dict[str, Any]) -> dict[str, Any]:
    """Return a stored row as the preview lists it: its action's label, and whether it was fixed here."""
    ligne = str(record["ligne"])
    fixed = any(ligne in (reglages.get(k) or {}) for k in ("corrections", "choix_communes", "doublons"))
    return {**record, "libelle": ACTION_LABELS.get(record["action"], record["action"]), "corrigee": fixed}


def _geocoder(settings: dict[str, Any], known: dict[str, Any] | None) -> geocoders.Geocoder:
    """The settings' geocoder; anything but "ban" is the offline one (a wizard never fails on a typo)."""
    kind = "ban" if settings.get("GEOCODER") == "ban" else "offline"
    return geocoders.make(kind, settings, known)


def type_of(value: str | None) -> str:
    """Return the type a cell names (a type or a French label such as « Antenne »), or "" if none."""
    try:
        return clean.structure_type(value, STRUCTURE_TYPES)[0] or ""
    except clean.Invalid:
        return ""


def fix(reglages: dict[str, Any], ligne: int, values: dict[str, str], raw: dict[str, str]) -> dict[str, Any]:
    """Return the réglages with a row's fixes: only the fields that differ from the file are kept."""
    corrections = dict(reglages["corrections"])
    current = dict(corrections.get(str(ligne), {}))
    for key, value in values.items():
        if key not in FIXABLE:
            continue
        value = value.strip()
        same_type = key == "type" and value and value == type_of(raw.get(key))  # chosen from the list
        if same_type or value == (raw.get(key) or "").strip():
            current.pop(key, None)
        else:
            current[key] = value
    if current:
        corrections[str(ligne)] = current
    else:
        corrections.pop(str(ligne), None)
    return {**reglages, "corrections": corrections}


def choose_duplicate(reglages: dict[str, Any], ligne: int, choix: str | None) -> dict[str, Any]:
    """Return the réglages with the admin's choice for a probable duplicate (None: undecided again)."""
    choices = dict(reglages.get("doublons") or {})
    if choix in DUPLICATE_CHOICES:
        choices[str(ligne)] = choix
    else:
        choices.pop(str(ligne), None)
    return {**reglages, "doublons": choices}


def pick_commune(reglages: dict[str, Any], ligne: int, code: str | None) -> dict[str, Any]:
    """Return the réglages with the commune picked for a row (None: no choice)."""
    choices = dict(reglages["choix_communes"])
    if code:
        choices[str(ligne)] = code
    else:
        choices.pop(str(ligne), None)
    return {**reglages, "choix_communes": choices}

"""The official DILA "Annuaire de l'administration": Mission locale and CIO offices → rows for the pipeline.

Reads, streamed with ijson: the 2022+ export (`{"service": [...]}`), the API's JSON export (a list of
records whose nested fields may be JSON text) or answer (`{"results": [...]}`), and the pre-2022
per-office GeoJSON (as converted in betagouv/annuaire). A .tar.bz2/.gz/.bz2/.zip holding one of those
is opened in place. Only the pivots `mission_locale` and `cio` of the home région are kept.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import re
import sqlite3
import tarfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..geo import names
from ..geo.codes import departement_of_insee
from ..geo.distance import haversine_km
from ..hours.days import CODE_OF_NAME
from ..store import communes as store_communes
from ..store import structures as store_structures
from .limits import Limits, shallow, unpacked
from .table import FileProblem, size_of

PIVOTS = {"mission_locale": "mission_locale", "cio": "cio"}
ML_TYPES = ("mission_locale", "antenne_mission_locale")
SAME_PLACE_KM = 0.6  # two records of one office within this distance are the same office
SOURCE_NAME = "DILA, Annuaire de l’administration (Base de données locales)"
# Mail and web domains shared by unrelated offices: they say nothing about which Mission locale.
GENERIC_DOMAINS = {
    "gmail.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "hotmail.fr",
    "hotmail.com",
    "yahoo.fr",
    "outlook.fr",
    "sfr.fr",
    "facebook.com",
    "missions-locales.org",
    "mission-locale.fr",
    "service-public.fr",
    "service-public.gouv.fr",
    "ac-clermont.fr",
    "ac-lyon.fr",
    "ac-grenoble.fr",
}
_ANTENNE = re.compile(r"\b(antenne|permanence|point d.accueil|relais|site de|accueil jeunes?)\b", re.I)


def looks_like_annuaire(head: bytes) -> bool:
    """Tell whether a file starts like JSON or a compressed archive (not a CSV)."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped[:1] in (b"{", b"[") or head.startswith((b"BZh", b"\x1f\x8b", b"PK\x03\x04"))


def zip_has_json(source: Path | bytes) -> bool:
    """Tell whether a zip file holds a .json member (a spreadsheet .xlsx/.ods is a zip too)."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source) as z:
            return any(n.lower().endswith(".json") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


@contextmanager
def _open_json(source: Path | bytes, limits: Limits) -> Iterator[IO[bytes]]:
    """Open the JSON inside a file or archive, as a binary stream bounded in unpacked size and depth."""
    raw: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes | bytearray) else open(source, "rb")  # noqa: SIM115
    packed = size_of(source)
    try:
        head = raw.read(4)
        raw.seek(0)
        if head.startswith(b"PK"):
            with zipfile.ZipFile(raw) as z:
                members = [n for n in z.namelist() if n.lower().endswith(".json")]
                if not members:
                    raise FileProblem("L’archive ne contient aucun fichier .json.")
                with z.open(members[0]) as f:
                    yield shallow(unpacked(f, packed, limits), limits)
            return
        if head.startswith((b"BZh", b"\x1f\x8b")):
            opener = bz2.open if head.startswith(b"BZh") else gzip.open
            try:
                with tarfile.open(fileobj=unpacked(opener(raw), packed, limits), mode="r|") as tar:
                    for member in tar:
                        if member.isfile() and member.name.lower().endswith(".json"):
                            f = tar.extractfile(member)
                            if f is not None:
                                yield shallow(f, limits)
                                return
                raise FileProblem("L’archive ne contient aucun fichier .json.")
            except tarfile.ReadError:
                raw.seek(0)
                with opener(raw) as f:  # a single compressed JSON file
                    yield shallow(unpacked(f, packed, limits), limits)
                return
        yield shallow(raw, limits)
    finally:
        raw.close()


def _shape(f: IO[bytes]) -> str:
    """Return the ijson prefix of the records: "service.item", "results.item", "features.item" or "item"."""
    import ijson

    for prefix, event, value in ijson.parse(f):
        if prefix == "" and event == "start_array":
            return "item"
        if prefix == "" and event == "map_key" and value in ("service", "results", "features"):
            return f"{value}.item"
        if prefix == "" and event == "map_key":
            continue
        if prefix == "" and event == "end_map":
            break
    raise FileProblem(
        "Fichier JSON sans liste d’organismes (clé « service », « results » ou « features ») : "
        "ce n’est pas un export de l’Annuaire de l’administration."
    )


def records(source: Path | bytes, limits: Limits | None = None) -> Iterator[dict[str, Any]]:
    """Yield the records of an annuaire file, streamed (whatever its shape), within the limits."""
    import ijson

    limits = limits or Limits()
    try:
        with _open_json(source, limits) as f:
            prefix = _shape(f)
        with _open_json(source, limits) as f:
            yield from ijson.items(f, prefix, use_float=True)
    except ijson.JSONError as err:
        raise FileProblem(f"Fichier JSON illisible ou tronqué ({err}).") from None
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as err:
        raise FileProblem(f"Archive illisible ou tronquée ({err}).") from None


# -- one record → raw values ----------------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    """The format's main trap: one element is not wrapped in a list; API exports send JSON text."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "{"):
            try:
                return _as_list(json.loads(text))
            except ValueError:
                return [value]
        return [value]
    return value if isinstance(value, list) else [value]


def _first_text(value: Any, key: str = "valeur") -> str | None:
    for item in _as_list(value):
        if isinstance(item, dict):
            inner = _first_text(item.get(key), key)
            if inner:
                return inner
        elif isinstance(item, str | int | float) and str(item).strip():
            return str(item).strip()
    return None


def _hhmm(value: Any) -> str | None:
    m = re.match(r"^\s*(\d{1,2})[:h](\d{2})", str(value or ""))
    return f"{int(m.group(1)):02d}:{m.group(2)}" if m else None


def _day_range(first: str | None, last: str | None) -> str | None:
    a = CODE_OF_NAME.get(names.fold(first or "").strip())
    b = CODE_OF_NAME.get(names.fold(last or first or "").strip())
    if not a:
        return None
    return a if not b or a == b else f"{a}-{b}"


def _rule(days: str | None, slots: list[tuple[str | None, str | None]], comment: str | None) -> str | None:
    times = [f"{a}-{b}" for a, b in slots if a and b]
    if not days or not times:
        return None
    rule = f"{days} {','.join(times)}"
    if comment:
        rule += ' "' + re.sub(r'["\s]+', " ", comment).strip()[:80] + '"'
    return rule


def opening_hours_new(plages: Any) -> str | None:
    """Convert `plage_ouverture` (2022+ format) to OSM opening_hours ("Mo-Fr 08:30-12:00,13:30-17:00")."""
    rules = []
    for p in _as_list(plages):
        if not isinstance(p, dict):
            continue
        slots = [
            (_hhmm(p.get("valeur_heure_debut_1")), _hhmm(p.get("valeur_heure_fin_1"))),
            (_hhmm(p.get("valeur_heure_debut_2")), _hhmm(p.get("valeur_heure_fin_2"))),
        ]
        rule = _rule(_day_range(p.get("nom_jour_debut"), p.get("nom_jour_fin")), slots, p.get("commentaire"))
        if rule:
            rules.append(rule)
    return "; ".join(rules) or None


def opening_hours_old(ouverture: Any) -> str | None:
    """Convert `Ouverture.PlageJ` (pre-2022 format, objects or lists) to OSM opening_hours."""
    rules = []
    for pj in _as_list((ouverture or {}).get("PlageJ") if isinstance(ouverture, dict) else None):
        if not isinstance(pj, dict):
            continue
        slots = [
            (_hhmm(h.get("début")), _hhmm(h.get("fin")))
            for h in _as_list(pj.get("PlageH"))
            if isinstance(h, dict)
        ]
        rule = _rule(_day_range(pj.get("début"), pj.get("fin")), slots, pj.get("Note"))
        if rule:
            rules.append(rule)
    return "; ".join(rules) or None


def _pivots(record: dict[str, Any]) -> list[tuple[str, list[str]]]:
    out = []
    for p in _as_list(record.get("pivot")):
        kind = _scalar(p.get("type_service_local")) if isinstance(p, dict) else None
        if kind:
            codes = [str(c) for c in _as_list(p.get("code_insee_commune")) if _scalar(c)]
            out.append((kind, codes))
    return out


def _scalar(value: Any) -> str | None:
    """Return a text or number as text; anything else (a list, an object) is not a usable value."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None


def _mapping(value: Any) -> dict[str, Any]:
    """Return an object, the first object of a list, or {} (records of unexpected shapes)."""
    if isinstance(value, list):
        value = next((x for x in value if isinstance(x, dict)), None)
    return value if isinstance(value, dict) else {}


def _point(geometry: Any) -> tuple[Any, Any]:
    """Return (lon, lat) of a GeoJSON point, or (None, None)."""
    coords = _mapping(geometry).get("coordinates")
    if isinstance(coords, list) and len(coords) >= 2:
        return coords[0], coords[1]
    return None, None


def convert(record: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """Return (pivot, raw values, extras) for a Mission locale or CIO record of either format, else None."""
    if record.get("type") == "Feature" or "properties" in record:
        return _convert_old(_mapping(record.get("properties")), record.get("geometry"))
    pivots = [p for p in _pivots(record) if p[0] in PIVOTS]
    if not pivots:
        return None
    pivot, pivot_codes = pivots[0]
    addresses = [a for a in _as_list(record.get("adresse")) if isinstance(a, dict)]
    physical = [
        a for a in addresses if (_scalar(a.get("type_adresse")) or "").lower() == "adresse"
    ] or addresses
    a = physical[0] if physical else {}
    complement = ", ".join(
        x
        for x in map(_scalar, (a.get("complement1"), a.get("complement2"), a.get("service_distribution")))
        if x
    )
    code = _scalar(record.get("code_insee_commune")) or (pivot_codes[0] if pivot_codes else None)
    refs = []
    if record.get("ancien_code_pivot"):
        refs.append(("dila", str(record["ancien_code_pivot"])))
    if record.get("id"):
        refs.append(("dila_uuid", str(record["id"])))
    raw = {
        "type": pivot,
        "nom": record.get("nom"),
        "adresse": a.get("numero_voie"),
        "complement_adresse": complement or None,
        "code_postal": a.get("code_postal"),
        "commune": a.get("nom_commune"),
        "code_insee": code,
        "latitude": a.get("latitude"),
        "longitude": a.get("longitude"),
        "telephone": _first_text(record.get("telephone")),
        "courriel": _first_text(record.get("adresse_courriel")),
        "site_web": _first_text(record.get("site_internet")),
        "horaires_accueil": opening_hours_new(record.get("plage_ouverture")),
        "date_maj": (_scalar(record.get("date_modification")) or "").split(" ")[0] or None,
        "source": " | ".join(x for x in (SOURCE_NAME, _scalar(record.get("url_service_public"))) if x),
    }
    return pivot, _stringify(raw), {"refs": refs}


def _convert_old(p: dict[str, Any], geometry: Any) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    pivot = _scalar(p.get("pivotLocal"))
    if pivot not in PIVOTS:
        return None
    adresse = _mapping(p.get("Adresse"))
    lines = [x for x in map(_scalar, _as_list(adresse.get("Ligne"))) if x]
    loc = _mapping(adresse.get("Localisation"))
    lat, lon = loc.get("Latitude"), loc.get("Longitude")
    if lat is None or lon is None:
        lon, lat = _point(geometry)
    num = _mapping(p.get("CoordonnéesNum"))
    raw = {
        "type": pivot,
        "nom": p.get("Nom"),
        "adresse": lines[0] if lines else None,
        "complement_adresse": ", ".join(lines[1:]) or None,
        "code_postal": adresse.get("CodePostal"),
        "commune": adresse.get("NomCommune"),
        "code_insee": p.get("codeInsee"),
        "latitude": lat,
        "longitude": lon,
        "telephone": _first_text(num.get("Téléphone")),
        "courriel": _first_text(num.get("Email")),
        "site_web": _first_text(num.get("Url")),
        "horaires_accueil": opening_hours_old(p.get("Ouverture")),
        "date_maj": _scalar(p.get("dateMiseAJour")),
        "source": f"{SOURCE_NAME}, {p.get('id')}" if p.get("id") else SOURCE_NAME,
    }
    refs = [("dila", str(p["id"]))] if p.get("id") else []
    return pivot, _stringify(raw), {"refs": refs}


def _stringify(raw: dict[str, Any]) -> dict[str, str]:
    """Every value as text; a list or an object where a value was expected becomes empty."""
    return {k: _scalar(v) or "" for k, v in raw.items()}


# -- siège or antenne -------------------------------------------------------------------------------
def _domains(raw: dict[str, str]) -> set[str]:
    out = set()
    mail = raw.get("courriel") or ""
    if "@" in mail:
        out.add(mail.rsplit("@", 1)[1].lower().strip())
    site = re.sub(r"^[a-z]+://", "", (raw.get("site_web") or "").lower()).split("/")[0]
    site = site.removeprefix("www.")
    if site:
        out.add(site)
    return {d for d in out if d and d not in GENERIC_DOMAINS}


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except (ValueError, AttributeError):
        return None


def _existing(
    conn: sqlite3.Connection, raw: dict[str, str], types: tuple[str, ...], refs, claimed: set[str]
) -> dict | None:
    """Return the stored structure this record describes: same annuaire id, else in the same commune
    the nearest one with the same name, else the nearest within SAME_PLACE_KM (not already claimed)."""
    for espace, valeur in refs:
        sid = store_structures.by_ref(conn, espace, valeur)
        if sid and sid not in claimed:
            found = store_structures.get_stored(conn, sid)
            if found:
                return found
    code = (raw.get("code_insee") or "").strip()
    if not code:
        return None
    commune = store_communes.get(conn, code)
    codes = [code] + [a["code"] for a in store_communes.arrondissements_of(conn, code)]
    if commune and commune.get("commune_parent"):
        codes.append(commune["commune_parent"])
    key = names.normalize(raw.get("nom") or "")
    lat, lon = _float(raw.get("latitude") or ""), _float(raw.get("longitude") or "")
    named, near = [], []
    for c in codes:
        for cand in store_structures.in_commune(conn, c, types):
            if cand["id"] in claimed:
                continue
            d = (
                haversine_km(lat, lon, cand["latitude"], cand["longitude"])
                if lat is not None and lon is not None and cand["latitude"] is not None
                else None
            )
            if names.normalize(cand["nom"]) == key:
                named.append((d if d is not None else 0.0, cand["id"], cand))
            elif d is not None and d <= SAME_PLACE_KM:
                near.append((d, cand["id"], cand))
    best = min(named or near, default=None)
    if best is None and types == ("cio",):
        # A town has one CIO (big cities aside): the only CIO of the commune is this one.
        alone = [
            c
            for code_ in codes
            for c in store_structures.in_commune(conn, code_, types)
            if c["id"] not in claimed
        ]
        if len(alone) == 1:
            return alone[0]
    return best[2] if best else None


def rows(
    conn: sqlite3.Connection, source: Path | bytes, region: str, limits: Limits | None = None
) -> tuple[list[tuple[int, dict[str, Any], dict[str, Any]]], int]:
    """Return the pipeline inputs (record number, raw values, extras) of the région's offices, and how
    many records the file held. A Mission locale office is the siège when the store knows it as such,
    else an antenne of the siège sharing its mail or web domain; the warning says what was deduced.
    """
    deps = {d["code"] for d in store_communes.departements(conn, region)}
    kept: list[tuple[int, str, dict[str, str], dict[str, Any]]] = []
    total = 0
    for n, record in enumerate(records(source, limits), start=1):
        total += 1
        if not isinstance(record, dict):
            continue
        try:
            converted = convert(record)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as err:
            bad = {"type": "", "nom": _scalar(record.get("nom")) or ""}
            kept.append((n, "", bad, {"refs": [], "erreur": f"organisme de forme inattendue ({err})"}))
            continue
        if converted is None:
            continue
        pivot, raw, extras = converted
        code = raw.get("code_insee") or ""
        dep = departement_of_insee(code) if code else (raw.get("code_postal") or "")[:2]
        if dep not in deps:
            continue
        kept.append((n, pivot, raw, extras))
    if total == 0:
        raise FileProblem("Le fichier ne contient aucun organisme.")

    sieges_by_domain: dict[str, dict[str, str]] = {}
    for _id, nom, _type in store_structures.names_of_types(conn, ("mission_locale",)):
        s = store_structures.get_stored(conn, _id)
        for d in _domains({"courriel": s.get("courriel") or "", "site_web": s.get("site_web") or ""}):
            sieges_by_domain.setdefault(d, {"nom": nom, "code_insee": s["code_insee"]})
    out: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    undecided: list[tuple[int, dict[str, str], dict[str, Any]]] = []
    claimed: set[str] = set()
    for n, pivot, raw, extras in kept:
        if extras.get("erreur"):
            out.append((n, raw, extras))
            continue
        types = ML_TYPES if pivot == "mission_locale" else ("cio",)
        found = _existing(conn, raw, types, extras["refs"], claimed)
        if found is not None:
            claimed.add(found["id"])
            raw["id"], raw["type"] = found["id"], found["type"]
            out.append((n, raw, extras))
            if found["type"] == "mission_locale":
                for d in _domains(raw):
                    sieges_by_domain.setdefault(d, {"nom": found["nom"], "code_insee": found["code_insee"]})
        elif pivot == "cio":
            out.append((n, raw, extras))
        else:
            undecided.append((n, raw, extras))
    # Offices the store does not know: the domain tells the Mission locale; alone, an office is a siège.
    groups: dict[str, list[tuple[int, dict[str, str], dict[str, Any]]]] = defaultdict(list)
    for item in undecided:
        _n, raw, extras = item
        siege = next((sieges_by_domain[d] for d in sorted(_domains(raw)) if d in sieges_by_domain), None)
        if siege is not None:
            raw["type"], raw["parent"] = "antenne_mission_locale", siege["nom"]
            extras["note"] = (
                f"type déduit : antenne de « {siege['nom']} » (même domaine de courriel ou de site)"
            )
            out.append(item)
            continue
        domains = sorted(_domains(raw))
        groups[domains[0] if domains else f"sans-domaine-{_n}"].append(item)
    for key, items in groups.items():
        if len(items) == 1 or key.startswith("sans-domaine-"):
            for _n, raw, extras in items:
                if _ANTENNE.search(raw.get("nom") or ""):
                    raw["type"] = "antenne_mission_locale"
                    extras["note"] = (
                        "type déduit : antenne (d’après son nom), Mission locale parente inconnue"
                    )
                else:
                    extras["note"] = (
                        "type déduit : Mission locale (siège) ; vérifiez que ce n’est pas une antenne"
                    )
                out.append((_n, raw, extras))
            continue

        def population(item):
            c = store_communes.get(conn, item[1].get("code_insee") or "")
            return -((c or {}).get("population") or 0), item[0]

        ordered = sorted(items, key=population)
        siege = ordered[0]
        siege[2]["note"] = "type déduit : Mission locale (siège, la plus grande commune de son réseau)"
        out.append(siege)
        for item in ordered[1:]:
            item[1]["type"], item[1]["parent"] = "antenne_mission_locale", siege[1]["nom"]
            item[2]["note"] = (
                f"type déduit : antenne de « {siege[1]['nom']} » (même domaine de courriel ou de site)"
            )
            out.append(item)
    out.sort(key=lambda x: x[0])
    return out, total

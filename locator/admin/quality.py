"""Data-quality checks of the directory (exported as CSV by publish.spreadsheet).

Each check returns rows (dicts) with a `probleme` saying in French what is wrong; the dashboard shows
them as lists and on a map, and exports each list as CSV.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from .. import lookup
from ..geo import addresses, names
from ..geo.distance import haversine_km
from ..store import communes as store_communes
from ..store import coverage as store_coverage
from ..store import quality as store_quality

# Positions that only say "somewhere in the commune" (or less): the map pin may be kilometres off.
COARSE_PRECISIONS = {"commune", "municipality", "centre_commune", "departement"}
# Suspected duplicates: names this alike (0-100) and closer than this many km, or addresses alike.
DUPLICATE_NAME_SCORE = 90
DUPLICATE_ADDRESS_SCORE = 90
DUPLICATE_DISTANCE_KM = 0.2
# Beyond this distance from its commune's contour a position is said to lie outside the commune.
OUTSIDE_COMMUNE_KM = 1.0
# A seat address of the coverage file this alike (0-100, same house number) to the directory's is the same.
SEAT_SAME_SCORE = 85

CHECKS = {
    "positions": "Position imprécise ou absente",
    "anciennes": "Informations de plus de 12 mois",
    "doublons": "Doublons probables",
    "antennes": "Antennes sans Mission locale de rattachement",
    "communes": "Communes sans Mission locale compétente",
    "plusieurs": "Communes couvertes par plusieurs Missions locales",
    "sans_liste": "Communes absentes des listes officielles (territoire probable)",
    "sieges": "Siège d’une Mission locale différent dans la liste des communes couvertes",
}
# Columns of each CSV export, in order.
COLUMNS = {
    "positions": ("id", "nom", "type", "commune", "code_insee", "latitude", "longitude", "probleme"),
    "anciennes": ("id", "nom", "type", "commune", "date_maj", "probleme"),
    "doublons": ("id", "nom", "adresse", "commune", "autre_id", "autre_nom", "distance_km", "probleme"),
    "antennes": ("id", "nom", "commune", "parent_id", "probleme"),
    "communes": ("code", "nom", "departement", "population", "probleme"),
    "plusieurs": ("code", "nom", "departement", "population", "missions_locales", "probleme"),
    "sans_liste": ("code", "nom", "departement", "population", "probleme"),
    "sieges": (
        "id",
        "nom",
        "adresse",
        "code_postal",
        "commune",
        "adresse_liste",
        "code_postal_liste",
        "commune_liste",
        "date_liste",
        "probleme",
    ),
}
# The commune checks: rows are communes (a code, no structure to edit), drawn at their centre.
COMMUNE_CHECKS = ("communes", "plusieurs", "sans_liste")


def imprecise_positions(conn: sqlite3.Connection, structures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the structures without a position, with a commune-level one, or one outside their commune."""
    from ..geo import geometry  # shapely: only the dashboard needs it

    out = []
    for s in structures:
        if s["latitude"] is None or s["longitude"] is None:
            out.append({**s, "probleme": "Pas de position : la structure n’apparaît pas sur la carte."})
            continue
        precision = s.get("precision_geocodage")
        if precision in COARSE_PRECISIONS:
            out.append({**s, "probleme": "Position approximative (centre de la commune)."})
            continue
        if not precision:
            out.append({**s, "probleme": "Précision de la position inconnue."})
            continue
        wkb = store_communes.contour(conn, s["code_insee"]) if s.get("code_insee") else None
        if wkb is not None:
            km = geometry.distance_to_contour_km(wkb, s["latitude"], s["longitude"])
            if km > OUTSIDE_COMMUNE_KM:
                decimal_km = f"{km:.1f}".replace(".", ",")  # French decimal comma
                out.append(
                    {**s, "probleme": f"Position à {decimal_km} km de la commune indiquée ({s['commune']})."}
                )
    return out


def months_before(today: date, months: int) -> date:
    """Return the date `months` calendar months before `today` (end of month when the day is missing)."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    month += 1
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def stale(structures: list[dict[str, Any]], today: date, months: int = 12) -> list[dict[str, Any]]:
    """Return the structures whose date_maj is missing or older than `months` months, oldest first."""
    cutoff = months_before(today, months).isoformat()
    out = []
    for s in structures:
        when = (s.get("date_maj") or "")[:10]
        if not when:
            out.append({**s, "probleme": "Date de mise à jour inconnue."})
        elif when < cutoff:
            out.append({**s, "probleme": f"Dernière mise à jour le {when}, il y a plus de {months} mois."})
    return sorted(out, key=lambda s: (s.get("date_maj") or "", s["nom"]))


def _key(text: str | None) -> str:
    return names.normalize(text or "")


def duplicates(structures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return pairs of structures that look like the same place: alike names and (near or same address).

    Compared within a département (a duplicate never crosses one); one row per pair.
    """
    from rapidfuzz import fuzz

    by_departement: dict[str, list[dict[str, Any]]] = {}
    for s in structures:
        by_departement.setdefault(s.get("departement") or "", []).append(s)
    out = []
    for group in by_departement.values():
        keyed = [(s, _key(s["nom"]), _key(s.get("adresse"))) for s in group]
        for i, (a, name_a, addr_a) in enumerate(keyed):
            for b, name_b, addr_b in keyed[i + 1 :]:
                name_score = fuzz.token_sort_ratio(name_a, name_b)
                if name_score < DUPLICATE_NAME_SCORE:
                    continue
                km = None
                if None not in (a["latitude"], a["longitude"], b["latitude"], b["longitude"]):
                    km = haversine_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"])
                same_address = (
                    bool(addr_a and addr_b)
                    and (fuzz.token_sort_ratio(addr_a, addr_b) >= DUPLICATE_ADDRESS_SCORE)
                    and a.get("code_insee") == b.get("code_insee")
                )
                if not same_address and (km is None or km > DUPLICATE_DISTANCE_KM):
                    continue
                why = ["noms semblables"]
                if same_address:
                    why.append("même adresse")
                if km is not None and km <= DUPLICATE_DISTANCE_KM:
                    why.append(f"à {km * 1000:.0f} m l’une de l’autre")
                out.append(
                    {
                        **a,
                        "autre_id": b["id"],
                        "autre_nom": b["nom"],
                        "autre_latitude": b["latitude"],
                        "autre_longitude": b["longitude"],
                        "distance_km": round(km, 3) if km is not None else None,
                        "probleme": "Doublon probable : " + ", ".join(why) + ".",
                    }
                )
    return out


def orphan_antennes(structures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the antennes whose parent Mission locale is missing, unknown or not published."""
    live = {s["id"]: s for s in structures}
    out = []
    for s in structures:
        if s["type"] != "antenne_mission_locale":
            continue
        parent = live.get(s["parent_id"]) if s.get("parent_id") else None
        if not s.get("parent_id"):
            out.append({**s, "probleme": "Aucune Mission locale de rattachement."})
        elif parent is None:
            out.append(
                {**s, "probleme": f"La Mission locale de rattachement « {s['parent_id']} » n’existe plus."}
            )
        elif parent["type"] != "mission_locale":
            out.append(
                {**s, "probleme": f"Rattachée à « {parent['nom']} », qui n’est pas une Mission locale."}
            )
    return out


def unanswered_communes(conn: sqlite3.Connection, region: str) -> list[dict[str, Any]]:
    """Return the communes of the région for which no Mission locale is competent, saying why."""
    why = {
        None: "Réponse pas encore calculée : relancez « locator build » ou « locator serve ».",
        "inconnue": "Aucune Mission locale publiée n’a son siège dans ce département, ou la position de "
        "la commune est inconnue.",
    }
    rows = sorted(
        store_quality.unanswered_communes(conn, region),
        key=lambda c: (c["departement"], names.fold(c["nom"])),
    )
    return [{**c, "probleme": why.get(c["methode"], why["inconnue"])} for c in rows]


def several_lists_communes(conn: sqlite3.Connection, region: str) -> list[dict[str, Any]]:
    """Return the communes of the région that several coverage lists name: the answer lists them all,
    but one of the lists is probably wrong."""
    rows = sorted(
        store_quality.several_lists_communes(conn, region),
        key=lambda c: (c["departement"], names.fold(c["nom"])),
    )
    out = []
    for c in rows:
        mls = " ; ".join(sorted(set((c["missions_locales"] or "").split(" ; ")) - {""}, key=names.fold))
        out.append(
            {
                **c,
                "missions_locales": mls,
                "probleme": f"Nommée par les listes de {c['listes']} Missions locales : {mls}. "
                "Vérifiez laquelle est compétente.",
            }
        )
    return out


def uncovered_communes(conn: sqlite3.Connection, region: str) -> list[dict[str, Any]]:
    """Return the communes of the région that no Mission locale's coverage list names."""
    rows = sorted(
        store_quality.uncovered_communes(conn, region), key=lambda c: (c["departement"], names.fold(c["nom"]))
    )
    note = (
        "Aucune liste officielle ne nomme cette commune : sa Mission locale est celle du territoire "
        "probable, déduit des lieux d’accueil de son intercommunalité."
    )
    return [{**c, "probleme": note} for c in rows]


def _same_commune(conn: sqlite3.Connection, seat: dict[str, Any]) -> bool:
    """Tell whether the file's seat and the directory's lie in one commune (a city and its
    arrondissements count as one); by the names when the file's commune could not be placed."""
    if seat["code_insee"] is None or seat["annuaire_code_insee"] is None:
        return names.normalize(seat["commune"] or "") == names.normalize(seat["annuaire_commune"] or "")

    def city(code: str) -> str:
        commune = store_communes.get(conn, code)
        return (commune or {}).get("commune_parent") or code

    return city(seat["code_insee"]) == city(seat["annuaire_code_insee"])


def seat_differences(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the Missions locales whose seat, as the last coverage file gives it, differs from the
    directory's: another commune first (la Bièvre: Saint-Étienne-de-Saint-Geoirs in the file, Beaurepaire
    here), then another address in the same commune. The newer of the two is to be kept."""
    out = []
    for seat in store_coverage.seats(conn):
        same_commune = _same_commune(conn, seat)
        if (
            same_commune
            and addresses.similarity(seat["adresse"], seat["annuaire_adresse"]) >= SEAT_SAME_SCORE
        ):
            continue
        listed = ", ".join(
            p
            for p in (seat["adresse"], " ".join(x for x in (seat["code_postal"], seat["commune"]) if x))
            if p
        )
        here = ", ".join(
            p
            for p in (
                seat["annuaire_adresse"],
                " ".join(x for x in (seat["annuaire_code_postal"], seat["annuaire_commune"]) if x),
            )
            if p
        )
        when = lookup.month_year(seat["date_maj"])
        what = "Siège dans une autre commune" if not same_commune else "Adresse du siège différente"
        out.append(
            {
                "id": seat["structure_id"],
                "nom": seat["nom"],
                "adresse": seat["annuaire_adresse"],
                "code_postal": seat["annuaire_code_postal"],
                "commune": seat["annuaire_commune"],
                "departement": seat["departement"],
                "latitude": seat["latitude"],
                "longitude": seat["longitude"],
                "adresse_liste": seat["adresse"],
                "code_postal_liste": seat["code_postal"],
                "commune_liste": seat["commune"],
                "date_liste": seat["date_maj"],
                "autre_commune": not same_commune,
                "probleme": f"{what} : la liste des communes couvertes"
                + (f" ({when})" if when else "")
                + f" donne « {listed or 'aucune adresse'} », l’annuaire « {here or 'aucune adresse'} ». "
                "Vérifiez laquelle est à jour et corrigez la fiche si besoin.",
            }
        )
    return sorted(out, key=lambda s: (not s["autre_commune"], s["departement"] or "", names.fold(s["nom"])))


def run(conn: sqlite3.Connection, region: str, today: date, stale_months: int = 12) -> dict[str, list[dict]]:
    """Run every check; return check name → rows."""
    structures = store_quality.live_structures(conn)
    return {
        "positions": imprecise_positions(conn, structures),
        "anciennes": stale(structures, today, stale_months),
        "doublons": duplicates(structures),
        "antennes": orphan_antennes(structures),
        "communes": unanswered_communes(conn, region),
        "plusieurs": several_lists_communes(conn, region),
        "sans_liste": uncovered_communes(conn, region),
        "sieges": seat_differences(conn),
    }


def run_one(
    conn: sqlite3.Connection, check: str, region: str, today: date, stale_months: int = 12
) -> list[dict]:
    """Run one check by name (KeyError when unknown)."""
    own_rows = (*COMMUNE_CHECKS, "sieges")  # checks that read their own rows, not every structure
    structures = store_quality.live_structures(conn) if check not in own_rows else []
    return {
        "positions": lambda: imprecise_positions(conn, structures),
        "anciennes": lambda: stale(structures, today, stale_months),
        "doublons": lambda: duplicates(structures),
        "antennes": lambda: orphan_antennes(structures),
        "communes": lambda: unanswered_communes(conn, region),
        "plusieurs": lambda: several_lists_communes(conn, region),
        "sans_liste": lambda: uncovered_communes(conn, region),
        "sieges": lambda: seat_differences(conn),
    }[check]()

"""Score an inference rule of Mission locale territories against the network's official coverage file.

For every commune of the région that the file lists and the store knows, compare the Mission locale
the file names with the one the rule infers from the store's sites (coverage lists imported in the
store are ignored: only the inference is measured). Print the agreement per département and overall,
by communes and by population, then every disagreement with its distances.

    .venv/bin/python scripts/score_territories.py [--db instance/locator.sqlite] [--regle epci]
        [--couverture ../shared/data/zones_de_couverture_janvier_2026_auvergne_rhone_alpes.csv]
        [--json] [--sans-desaccords]
    .venv/bin/python scripts/score_territories.py --regle toutes   # one line per rule

Rules (`--regle`): `epci` is locator.territories' rule (the one the site uses); the others are the
variants it was compared with. The file's Mission locale is found by the coverage reader
(ingest.coverage.MissionLocaleFinder). Lyon: the file lists arrondissements, the store answers for the
city (69123), as the coverage import does. A file line whose Mission locale is not in the directory
(another région) counts as a disagreement: no inference can name it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locator import config, territories  # noqa: E402
from locator.geo.distance import haversine_km  # noqa: E402
from locator.ingest.coverage import MissionLocaleFinder  # noqa: E402
from locator.store import communes as store_communes  # noqa: E402
from locator.store import territories as store_territories  # noqa: E402
from locator.store.db import connect  # noqa: E402

DEFAULT_FILE = Path(config.SEED).parent / "zones_de_couverture_janvier_2026_auvergne_rhone_alpes.csv"
# Beyond this factor of the département's nearest site, a site of another département does not win
# (variant "voisin").
NEIGHBOUR_FACTOR = 0.5
# Variants "siege", "taille", "population": a siège's distance counts this much (< 1: sièges attract
# farther); distances divided by (number of the Mission locale's sites) or (its siège commune's
# population) to this power (bigger Missions locales attract farther).
SIEGE_FACTOR = 0.8
SIZE_POWER = 0.1

Inferred = dict[str, tuple[str, str | None, float | None]]  # code → (ml_id, site_id, distance_km)


# --- the official file -------------------------------------------------------------------------


def _find(finder: MissionLocaleFinder, row: dict[str, str]) -> str | None:
    """The directory id of a line's Mission locale, found as the coverage reader finds it (code, official
    name, then the seat's address: 38509 is seated in Bourgoin-Jallieu)."""
    seat = {
        "adresse": row.get("Adresse ML", "").strip(),
        "code_postal": row.get("Code Postal ML", "").strip(),
        "commune": row.get("Ville ML", "").strip(),
    }
    found = finder.find(row.get("Code ML", "").strip(), row.get("Nom Officiel ML", "").strip(), seat)
    return found.structure_id


def official(conn, path: Path, region: str) -> tuple[dict[str, set[str]], dict[str, str], int]:
    """Return code → ids of the Missions locales the file names (or "?LABEL" when not in the directory),
    id → label of the file's Missions locales, and how many lines were left out (commune unknown to
    the store or outside the région)."""
    finder = MissionLocaleFinder(conn)
    expected: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    ignored = 0
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            commune = store_communes.get(conn, (row.get("Code INSEE") or "").strip())
            if commune is None or commune["region"] != region:
                ignored += 1
                continue
            code = commune["commune_parent"] or commune["code"]
            label = " ".join(
                x for x in (row.get("Code ML", "").strip(), row.get("Nom Officiel ML", "").strip())
            )
            sid = _find(finder, row) or f"?{label}"
            labels.setdefault(sid, label)
            expected.setdefault(code, set()).add(sid)
    return expected, labels, ignored


# --- rules ---------------------------------------------------------------------------------------


def rule_epci(conn, region: str) -> Inferred:
    """The site's rule (locator.territories), ignoring coverage lists."""
    return {
        a["code_insee"]: (a["structure_id"], a["site_id"], a["distance_km"])
        for a in territories.compute(conn, region, coverage=False)
        if a["structure_id"]
    }


def _nearest(conn, region: str, pool: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> Inferred:
    out: Inferred = {}
    for c in store_territories.region_communes(conn, region):
        if c["latitude"] is None:
            continue
        found = territories.nearest_site(pool(c), c["latitude"], c["longitude"])
        if found:
            out[c["code"]] = (found[0]["ml_id"], found[0]["site_id"], found[1])
    return out


def _by_departement(conn) -> dict[str, list[dict[str, Any]]]:
    by_dep: dict[str, list[dict[str, Any]]] = {}
    for site in territories.one_per_point(store_territories.ml_sites(conn)):
        by_dep.setdefault(site["departement"], []).append(site)
    return by_dep


def rule_departement(conn, region: str) -> Inferred:
    """The previous rule: the Mission locale of the département with the site nearest to the centre."""
    by_dep = _by_departement(conn)
    return _nearest(conn, region, lambda c: by_dep.get(c["departement"], []))


def rule_region(conn, region: str) -> Inferred:
    """The site nearest to the centre, whatever the département."""
    sites = territories.one_per_point(store_territories.ml_sites(conn))
    return _nearest(conn, region, lambda _c: sites)


def rule_voisin(conn, region: str) -> Inferred:
    """The département's nearest site, unless a site of another département is clearly nearer."""
    own, anywhere = rule_departement(conn, region), rule_region(conn, region)
    out = dict(own)
    for code, (ml, site, d) in anywhere.items():
        if code not in own or d < NEIGHBOUR_FACTOR * own[code][2]:
            out[code] = (ml, site, d)
    return out


def rule_vote_epci(conn, region: str) -> Inferred:
    """The previous rule per commune, then the majority of each intercommunality takes it whole."""
    own = rule_departement(conn, region)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in store_territories.region_communes(conn, region):
        groups.setdefault(territories.group_key(c), []).append(c)
    out: Inferred = {}
    for members in groups.values():
        votes = Counter(own[c["code"]][0] for c in members if c["code"] in own)
        if not votes:
            continue
        winner = min(votes, key=lambda ml: (-votes[ml], ml))
        for c in members:
            out[c["code"]] = (winner, None, None)
    return out


def _weighted(conn, region: str, cost: Callable[[float, dict[str, Any]], float]) -> Inferred:
    """The département's site with the least cost(distance, site), ties by Mission locale and site id."""
    by_dep = _by_departement(conn)
    out: Inferred = {}
    for c in store_territories.region_communes(conn, region):
        if c["latitude"] is None:
            continue
        scored = [
            (
                cost(haversine_km(c["latitude"], c["longitude"], s["latitude"], s["longitude"]), s),
                s["ml_id"],
                s,
            )
            for s in by_dep.get(c["departement"], [])
        ]
        if scored:
            _cost, ml, site = min(scored, key=lambda x: (x[0], x[1], x[2]["site_id"]))
            out[c["code"]] = (
                ml,
                site["site_id"],
                haversine_km(c["latitude"], c["longitude"], site["latitude"], site["longitude"]),
            )
    return out


def rule_siege(conn, region: str) -> Inferred:
    """The previous rule, a siège's distance counting SIEGE_FACTOR."""
    return _weighted(conn, region, lambda d, s: d * (SIEGE_FACTOR if s["site_id"] == s["ml_id"] else 1.0))


def rule_taille(conn, region: str) -> Inferred:
    """The previous rule, distances divided by the Mission locale's number of sites ** SIZE_POWER."""
    sites = Counter(s["ml_id"] for s in store_territories.ml_sites(conn))
    return _weighted(conn, region, lambda d, s: d / sites[s["ml_id"]] ** SIZE_POWER)


def rule_population(conn, region: str) -> Inferred:
    """The previous rule, distances divided by the population of the siège's commune ** SIZE_POWER."""
    rows = conn.execute(
        "SELECT s.id, COALESCE(c.population, 1) FROM structures s JOIN communes c ON c.code = s.code_insee "
        "WHERE s.type = 'mission_locale'"
    )
    population = {r[0]: max(r[1], 1) for r in rows}
    return _weighted(conn, region, lambda d, s: d / population.get(s["ml_id"], 1) ** SIZE_POWER)


def rule_epci_entier(conn, region: str) -> Inferred:
    """The site's rule on whole intercommunalities (not split by département)."""
    own = rule_departement(conn, region)
    here: dict[str, list[dict[str, Any]]] = {}
    for site in store_territories.ml_sites(conn):
        if site["epci"]:
            here.setdefault(site["epci"], []).append(site)
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in store_territories.region_communes(conn, region):
        groups.setdefault(c["epci"] or c["code"], []).append(c)
    out: Inferred = {}
    for key, members in groups.items():
        located = [c for c in members if c["latitude"] is not None]
        if here.get(key):
            for c in located:
                site, d = territories.nearest_site(here[key], c["latitude"], c["longitude"])
                out[c["code"]] = (site["ml_id"], site["site_id"], d)
            continue
        votes = Counter(own[c["code"]][0] for c in located if c["code"] in own)
        if votes:
            winner = min(votes, key=lambda ml: (-votes[ml], ml))
            out.update({c["code"]: (winner, None, None) for c in located})
    return out


def rule_epci_ville(conn, region: str) -> Inferred:
    """The site's rule, but a group where none receives goes to the Mission locale of its département
    with the site nearest to its most populous commune (instead of a vote)."""
    out = rule_epci(conn, region)
    by_dep = _by_departement(conn)
    receiving = {(s["epci"], s["site_departement"]) for s in store_territories.ml_sites(conn) if s["epci"]}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in store_territories.region_communes(conn, region):
        if c["epci"] and c["latitude"] is not None:
            groups.setdefault(territories.group_key(c), []).append(c)
    for key, members in groups.items():
        if key in receiving:
            continue
        town = max(members, key=lambda c: (c["population"] or 0, c["code"]))
        found = territories.nearest_site(
            by_dep.get(town["departement"], []), town["latitude"], town["longitude"]
        )
        if found:
            out.update({c["code"]: (found[0]["ml_id"], None, None) for c in members})
    return out


RULES: dict[str, Callable[[Any, str], Inferred]] = {
    "epci": rule_epci,
    "departement": rule_departement,
    "region": rule_region,
    "voisin": rule_voisin,
    "siege": rule_siege,
    "taille": rule_taille,
    "population": rule_population,
    "vote-epci": rule_vote_epci,
    "epci-entier": rule_epci_entier,
    "epci-ville": rule_epci_ville,
}


# --- score ---------------------------------------------------------------------------------------


def score(conn, path: Path, region: str, rule: str = "epci") -> dict[str, Any]:
    """Return the agreement of a rule with the official file: overall, per département, disagreements."""
    expected, labels, ignored = official(conn, path, region)
    inferred = RULES[rule](conn, region)
    communes = {c["code"]: c for c in store_territories.region_communes(conn, region)}
    sites: dict[str, list[dict[str, Any]]] = {}
    for s in store_territories.ml_sites(conn):
        sites.setdefault(s["ml_id"], []).append(s)
    names = {s["id"]: s["nom"] for s in _missions_locales(conn)}
    per_dep: dict[str, Counter] = {}
    disagreements = []
    for code in sorted(expected):
        c = communes.get(code)
        if c is None:  # a current commune of the région always is; an arrondissement maps to its city
            continue
        got = inferred.get(code)
        ok = got is not None and got[0] in expected[code]
        pop = c["population"] or 0
        tally = per_dep.setdefault(c["departement"], Counter())
        tally.update(communes=1, population=pop, accord=int(ok), accord_population=pop if ok else 0)
        if ok:
            continue
        want = sorted(expected[code])[0]
        d_want = None
        if want in sites and c["latitude"] is not None:
            d_want = min(
                haversine_km(c["latitude"], c["longitude"], s["latitude"], s["longitude"])
                for s in sites[want]
            )
        disagreements.append(
            {
                "code_insee": code,
                "nom": c["nom"],
                "departement": c["departement"],
                "population": pop,
                "attendue": want if not want.startswith("?") else None,
                "attendue_nom": names.get(want) or f"{labels[want]} (absente de l'annuaire)",
                "deduite": got[0] if got else None,
                "deduite_nom": names.get(got[0]) if got else None,
                "distance_km": None if not got or got[2] is None else round(got[2], 1),
                "distance_attendue_km": None if d_want is None else round(d_want, 1),
            }
        )
    departements = [{"departement": dep, **dict(t)} for dep, t in sorted(per_dep.items())]
    total = Counter()
    for t in per_dep.values():
        total.update(t)
    return {
        "regle": rule,
        "fichier": str(path),
        "lignes_ignorees": ignored,
        "communes": total["communes"],
        "accord": total["accord"],
        "population": total["population"],
        "accord_population": total["accord_population"],
        "absentes_de_l_annuaire": sum(1 for v in expected.values() if all(x.startswith("?") for x in v)),
        "departements": departements,
        "desaccords": disagreements,
    }


def _missions_locales(conn) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT id, nom FROM structures WHERE type = 'mission_locale'")
    return [dict(r) for r in rows]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def print_score(result: dict[str, Any], disagreements: bool = True) -> None:
    """Print a score as tables."""
    print(f"Règle « {result['regle']} » comparée à {Path(result['fichier']).name}")
    print(f"{'dép.':<6}{'communes':>9}{'accord':>8}{'%':>9}{'population':>13}{'accord':>12}{'%':>9}")
    for row in [*result["departements"], {"departement": "total", **result}]:
        print(
            f"{row['departement']:<6}{row['communes']:>9}{row['accord']:>8}"
            f"{_pct(row['accord'], row['communes']):>9}{row['population']:>13}{row['accord_population']:>12}"
            f"{_pct(row['accord_population'], row['population']):>9}"
        )
    print(
        f"{result['absentes_de_l_annuaire']} commune(s) d'une Mission locale absente de l'annuaire ; "
        f"{result['lignes_ignorees']} ligne(s) hors du fichier de données ou de la région ignorée(s)."
    )
    if not disagreements:
        return
    print(
        f"\nDésaccords ({len(result['desaccords'])}) : code, commune, Mission locale attendue, déduite, "
        "distance au site retenu, distance au site le plus proche de l'attendue (km)"
    )
    for d in result["desaccords"]:
        print(
            f"{d['code_insee']}\t{d['nom']}\t{d['attendue_nom']}\t{d['deduite_nom'] or '-'}\t"
            f"{d['distance_km'] if d['distance_km'] is not None else '-'}\t"
            f"{d['distance_attendue_km'] if d['distance_attendue_km'] is not None else '-'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=os.environ.get("LOCATOR_DB", "instance/locator.sqlite"))
    parser.add_argument(
        "--couverture",
        type=Path,
        default=None,
        help="the network's coverage file (default: setting COUVERTURE)",
    )
    parser.add_argument("--region", default=None, help="région code (default: setting REGION)")
    parser.add_argument("--regle", default="epci", choices=[*RULES, "toutes"])
    parser.add_argument("--json", action="store_true", help="print the score as JSON")
    parser.add_argument("--sans-desaccords", action="store_true", help="do not list the disagreements")
    args = parser.parse_args(argv)
    settings = config.load()
    # The file the default build imports (setting COUVERTURE, "" for none), else the shared one.
    path = args.couverture or Path(settings.get("COUVERTURE") or DEFAULT_FILE)
    if not Path(args.db).is_file():
        print(f"Erreur : fichier de données introuvable : {args.db}", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"Erreur : fichier de couverture introuvable : {path}", file=sys.stderr)
        return 2
    region = args.region or settings["REGION"]
    conn = connect(args.db)
    try:
        rules = list(RULES) if args.regle == "toutes" else [args.regle]
        results = [score(conn, path, region, rule) for rule in rules]
    finally:
        conn.close()
    if args.json:
        print(json.dumps(results if args.regle == "toutes" else results[0], ensure_ascii=False, indent=1))
    elif args.regle == "toutes":
        print(f"{'règle':<13}{'communes':>10}{'accord':>8}{'%':>9}{'% population':>15}")
        for r in results:
            print(
                f"{r['regle']:<13}{r['communes']:>10}{r['accord']:>8}{_pct(r['accord'], r['communes']):>9}"
                f"{_pct(r['accord_population'], r['population']):>15}"
            )
    else:
        print_score(results[0], disagreements=not args.sans_desaccords)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure locator.places.resolve on messy queries built from the reference data.

Random communes of the home région and of the rest of France (uniformly drawn: small communes
weigh as much as big ones, which is the hard case) are written as people type them: case,
accents, hyphens, "St", a dropped article, one or two typos, phonetic spellings, postcodes,
"(63)", "mairie de", "cedex", glued or split words, first letters while typing; plus former
communes, arrondissements, INSEE codes. Each query carries the INSEE code it must find.

A query is *ambiguous* when the text alone cannot tell its commune from another one: another
place spells the same (homonyms), or a typo or a prefix brought the text at least as close to
another name. Those are reported apart, with the share whose first answer is one of the equally
good places. The postcode or département in a query restricts the rivals to its communes.

    .venv/bin/python scripts/eval_resolve.py [--db instance/locator.sqlite] [--per 200] [--seed 1]
    .venv/bin/python scripts/eval_resolve.py --write tests/data/resolve_eval.csv --per 40 --seed 7
    .venv/bin/python scripts/eval_resolve.py --set OUTSIDE_REGION=4 --set "DROPPED=(0, 2, 2)"
"""

from __future__ import annotations

import argparse
import ast
import bisect
import csv
import random
import re
import sqlite3
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from locator import config
from locator.geo import codes, names
from locator.places import resolve
from locator.store.db import connect

HOME = codes.REGION_AURA
FIELDS = ("transformation", "requete", "attendu", "zone", "ambigu", "equivalents")


@dataclass
class Commune:
    code: str
    nom: str
    departement: str
    region: str
    postcodes: list[str]
    former: bool = False  # a former commune: `code` is then its current commune's


@dataclass
class Reference:
    """What the generator needs: communes, former communes, and who spells what."""

    aura: list[Commune] = field(default_factory=list)
    france: list[Commune] = field(default_factory=list)
    formers: list[Commune] = field(default_factory=list)
    arrondissements: list[Commune] = field(default_factory=list)
    spellings: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # glued → codes
    by_length: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    sorted_spellings: list[str] = field(default_factory=list)
    places_of_postcode: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    departement_of: dict[str, str] = field(default_factory=dict)


def _spellings(text: str) -> list[str]:
    key = names.normalize(text)
    return [names.glued(key), names.glued(names.strip_article(key)), names.glued(names.skeleton(key))]


def load(conn: sqlite3.Connection) -> Reference:
    """Read communes, postcodes, former communes and every searchable name from the store."""
    ref = Reference()
    postcodes: dict[str, list[str]] = defaultdict(list)
    for cp, insee in conn.execute("SELECT code_postal, code_insee FROM codes_postaux ORDER BY code_postal"):
        postcodes[insee].append(cp)
        ref.places_of_postcode[cp].add(insee)
    for row in conn.execute("SELECT code, nom, type, departement, region FROM communes ORDER BY code"):
        c = Commune(row[0], row[1], row[3], row[4], postcodes.get(row[0], []))
        ref.departement_of[c.code] = c.departement
        if row[2] == "ARM":
            ref.arrondissements.append(c)
        elif c.region == HOME:
            ref.aura.append(c)
        else:
            ref.france.append(c)
    current = {c.code: c for c in ref.aura + ref.france}
    for _code, nom, parent in conn.execute(
        "SELECT code, nom, commune FROM anciennes_communes ORDER BY code, nom"
    ):
        p = current.get(parent)
        if p is not None and names.normalize(nom) != names.normalize(p.nom):
            ref.formers.append(Commune(parent, nom, p.departement, p.region, p.postcodes, former=True))
    for cle, kind, code, _nom in conn.execute("SELECT cle, kind, code, nom FROM noms"):
        place = f"dep:{code}" if kind == "departement" else code
        for s in {names.glued(cle), names.glued(names.strip_article(cle)), names.glued(names.skeleton(cle))}:
            ref.spellings[s].add(place)
    for s in ref.spellings:
        ref.by_length[len(s)].append(s)
    ref.sorted_spellings = sorted(ref.spellings)
    return ref


# --- How people write a name. Each returns the query, or None when it does not apply. ---

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_PHONETIC = [
    (r"t\b", "d"),  # Clermont → Clermond
    (r"d\b", "t"),
    (r"rr", "r"),  # Ferrand → Ferand
    (r"ll", "l"),
    (r"nn", "n"),
    (r"ss", "s"),
    (r"tt", "t"),
    (r"([aeiou])l([aeiou])", r"\1ll\2"),
    (r"([aeiou])n([aeiou])", r"\1nn\2"),
    (r"eaux?\b", "o"),
    (r"au", "o"),
    (r"ph", "f"),
    (r"y", "i"),
    (r"ai", "e"),
    (r"([^aeiou])s\b", r"\1"),  # Thiers → Thier
    (r"x\b", ""),
    (r"\bh", ""),
    (r"qu", "k"),
    (r"gn", "ni"),
]


def _typo(rng: random.Random, text: str) -> str:
    """One keyboard slip on a letter other than the first: swap, drop, double, replace, insert."""
    spots = [i for i, ch in enumerate(text) if ch.isalpha() and i > 0]
    if not spots:
        return text
    i = rng.choice(spots)
    op = rng.choice(("swap", "drop", "double", "replace", "insert"))
    if op == "swap" and i + 1 < len(text) and text[i + 1].isalpha() and text[i + 1] != text[i]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op == "drop":
        return text[:i] + text[i + 1 :]
    if op == "double":
        return text[:i] + text[i] + text[i:]
    if op == "insert":
        return text[:i] + rng.choice(_LETTERS) + text[i:]
    return text[:i] + rng.choice(_LETTERS.replace(text[i], "")) + text[i + 1 :]


def _phonetic(rng: random.Random, text: str) -> str | None:
    # "Saint" is spelled right by everyone: only the other words are written as heard.
    low = re.sub(r"\bsaint", "§", names.fold(text))
    rules = [(a, b) for a, b in _PHONETIC if re.search(a, low)]
    if not rules:
        return None
    for a, b in rng.sample(rules, min(len(rules), rng.choice((1, 2)))):
        low = re.sub(a, b, low, count=1)
    return low.replace("§", "saint")


def _casual(rng: random.Random, nom: str) -> str:
    """Lower case, accents kept or not, hyphens kept or spaces: how names are typed on a phone."""
    out = nom.lower()
    if rng.random() < 0.5:
        out = names.fold(out)
    if rng.random() < 0.5:
        out = out.replace("-", " ")
    return out


def _without_article(nom: str) -> str | None:
    for article in ("Le ", "La ", "Les ", "L'"):
        if nom.startswith(article):
            return nom[len(article) :]
    return None


def _saint(rng: random.Random, nom: str) -> str | None:
    if not re.search(r"\bSainte?\b", nom):
        return None
    dot = rng.choice(("", "."))
    return re.sub(r"\bSaint(e?)\b", lambda m: f"St{m.group(1)}{dot}", nom)


def _split(rng: random.Random, nom: str) -> str | None:
    """Cut a long word in two ("Villeurbanne" → "Ville urbanne"): words people split."""
    words = re.split(r"([ \-'])", nom)
    long = [i for i, w in enumerate(words) if len(w) >= 8]
    if not long:
        return None
    i = rng.choice(long)
    cut = rng.randint(3, len(words[i]) - 3)
    words[i] = words[i][:cut] + " " + words[i][cut:]
    return "".join(words).lower()


def _glue(rng: random.Random, nom: str) -> str | None:
    if not re.search(r"[ \-']", nom):
        return None
    out = re.sub(r"[ \-'’]", "", nom)
    return out.lower() if rng.random() < 0.7 else out


def _prefix(rng: random.Random, nom: str) -> str | None:
    typed = _casual(rng, nom)
    if len(typed) < 4:
        return None
    return typed[: rng.randint(3, len(typed) - 1)]


def _postcode(c: Commune, rng: random.Random) -> str | None:
    return rng.choice(c.postcodes) if c.postcodes else None


def _mairie(rng: random.Random, nom: str) -> str:
    return rng.choice(("Mairie ", "mairie ", "Commune ", "Ville ")) + names.of(nom)


def _cedex(rng: random.Random, c: Commune) -> str | None:
    cp = _postcode(c, rng)
    if cp is None:
        return None
    n = rng.choice(("", " 1", " 2", " 9"))
    # A CEDEX postcode is often the commune's own with other last digits: not in the postcode list.
    cedex_cp = cp[:3] + f"{rng.randint(0, 99):02d}" if rng.random() < 0.5 else cp
    return f"{cedex_cp} {c.nom.upper()} CEDEX{n}"


TRANSFORMS = {
    "exact": lambda rng, c: c.nom,
    "minuscules": lambda rng, c: c.nom.lower(),
    "majuscules": lambda rng, c: c.nom.upper(),
    "sans_accents": lambda rng, c: names.fold(c.nom) if names.fold(c.nom) != c.nom.lower() else None,
    "tirets_en_espaces": lambda rng, c: c.nom.replace("-", " ") if "-" in c.nom else None,
    "abreviation_st": lambda rng, c: _saint(rng, c.nom),
    "apostrophe_typo": lambda rng, c: (
        c.nom.replace("'", rng.choice(("’", " ", ""))) if "'" in c.nom else None
    ),
    "sans_article": lambda rng, c: _without_article(c.nom),
    "une_faute": lambda rng, c: _typo(rng, _casual(rng, c.nom)),
    "deux_fautes": lambda rng, c: _typo(rng, _typo(rng, _casual(rng, c.nom))) if len(c.nom) >= 6 else None,
    "phonetique": lambda rng, c: _phonetic(rng, c.nom),
    "code_postal_avant": lambda rng, c: f"{cp} {_casual(rng, c.nom)}" if (cp := _postcode(c, rng)) else None,
    "code_postal_apres": lambda rng, c: f"{c.nom} {cp}" if (cp := _postcode(c, rng)) else None,
    "faute_et_code_postal": lambda rng, c: (
        f"{cp} {_typo(rng, _casual(rng, c.nom))}" if (cp := _postcode(c, rng)) else None
    ),
    "departement_entre_parentheses": lambda rng, c: f"{c.nom} ({c.departement})",
    "mairie_de": lambda rng, c: _mairie(rng, c.nom),
    "cedex": lambda rng, c: _cedex(rng, c),
    "mots_colles": lambda rng, c: _glue(rng, c.nom),
    "mots_coupes": lambda rng, c: _split(rng, c.nom),
    "debut_de_saisie": lambda rng, c: _prefix(rng, c.nom),
    "code_insee": lambda rng, c: c.code,
}
_CONTEXT = {  # what else than the name a transformation puts in the query
    "code_postal_avant": "postcode",
    "code_postal_apres": "postcode",
    "faute_et_code_postal": "postcode",
    "cedex": "postcode",
    "departement_entre_parentheses": "departement",
}


def _rivals(ref: Reference, transformation: str, query: str, name: str, target: str, c: Commune) -> set[str]:
    """Return the other places the text matches at least as well as its target (empty: unambiguous)."""
    if transformation == "code_insee":  # a code that is also a postcode means first its communes
        return set(ref.places_of_postcode.get(query, set())) - {target}
    words = names.words(name)
    if transformation == "debut_de_saisie":  # the last word is being typed: not an abbreviation
        key = "".join([names.expand(w) for w in words[:-1]] + words[-1:])
    else:
        key = names.glued(names.normalize(name))
    spelled = _spellings(name)
    if transformation == "debut_de_saisie":
        i = bisect.bisect_left(ref.sorted_spellings, key)
        found: set[str] = set()
        while i < len(ref.sorted_spellings) and ref.sorted_spellings[i].startswith(key):
            found |= ref.spellings[ref.sorted_spellings[i]]
            i += 1
        rivals = found - {target}
    else:
        # The best level at which the target matches: exact spelling, then with typos.
        own = {s for s in _spellings_of_place(ref, target, c)}
        exact = [s for s in spelled if s in own]
        if exact:
            level = spelled.index(exact[0])
            rivals = set().union(*(ref.spellings.get(s, set()) for s in spelled[: level + 1])) - {target}
        else:
            d = min(Levenshtein.distance(key, s) for s in own)
            rivals = set()
            for n in range(len(key) - d, len(key) + d + 1):
                for s, _dist, _i in process.extract(
                    key, ref.by_length.get(n, []), scorer=Levenshtein.distance, score_cutoff=d, limit=None
                ):
                    rivals |= ref.spellings[s]
            rivals -= {target}
    context = _CONTEXT.get(transformation)
    if context == "postcode":
        cp = re.search(r"\b\d{5}\b", query).group()
        served = ref.places_of_postcode.get(cp)
        if served:
            rivals &= served
        else:  # an unknown (CEDEX) postcode still tells the département
            rivals = {r for r in rivals if ref.departement_of.get(r) == c.departement}
    elif context == "departement":
        rivals = {r for r in rivals if ref.departement_of.get(r) == c.departement}
    return rivals


_place_spellings: dict[str, set[str]] = {}


def _spellings_of_place(ref: Reference, code: str, c: Commune) -> set[str]:
    if not _place_spellings:
        for s, places in ref.spellings.items():
            for p in places:
                _place_spellings.setdefault(p, set()).add(s)
    return _place_spellings.get(code, set())


def generate(conn: sqlite3.Connection, per: int, seed: int) -> list[dict[str, str]]:
    """Return `per` queries per transformation (half home région, half elsewhere) and the extra cases."""
    ref = load(conn)
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for transformation, make in TRANSFORMS.items():
        for zone, pool in (("aura", ref.aura), ("france", ref.france)):
            made = tries = 0
            while made < per // 2 and tries < per * 50:
                tries += 1
                c = rng.choice(pool)
                query = make(rng, c)
                if not query or (
                    transformation != "debut_de_saisie" and query == c.nom and transformation != "exact"
                ):
                    continue
                name = _name_part(transformation, query, c)
                rivals = _rivals(ref, transformation, query, name, c.code, c)
                rows.append(_row(transformation, query, c.code, zone, rivals))
                made += 1
    for zone in ("aura", "france"):
        formers = [f for f in ref.formers if (f.region == HOME) == (zone == "aura")]
        for f in rng.sample(formers, min(per // 2, len(formers))):
            query = f.nom if rng.random() < 0.5 else _casual(rng, f.nom)
            rows.append(
                _row(
                    "ancienne_commune", query, f.code, zone, _rivals(ref, "ancienne", query, query, f.code, f)
                )
            )
    for a in ref.arrondissements:
        city, n = re.match(r"(\w+) (\d+)", a.nom).groups()
        suffix = rng.choice(("e", "", "ème", "e arrondissement", "eme"))
        if n == "1":
            suffix = rng.choice(("er", "", "er arrondissement"))
        query = f"{city} {n}{suffix}"
        if rng.random() < 0.5:
            query = query.lower()
        rows.append(_row("arrondissement", query, a.code, "aura" if a.region == HOME else "france", set()))
        rows.append(
            _row("arrondissement", a.postcodes[0], a.code, "aura" if a.region == HOME else "france", set())
        )
    return rows


def _name_part(transformation: str, query: str, c: Commune) -> str:
    """The part of the query that is the name (what the ambiguity is judged on)."""
    if transformation in ("code_postal_avant", "code_postal_apres", "faute_et_code_postal"):
        return re.sub(r"\b\d{5}\b", "", query).strip()
    if transformation == "departement_entre_parentheses":
        return c.nom
    if transformation == "cedex":
        return c.nom
    if transformation == "mairie_de":
        return c.nom
    return query


def _row(transformation: str, query: str, code: str, zone: str, rivals: set[str]) -> dict[str, str]:
    return {
        "transformation": transformation,
        "requete": query,
        "attendu": code,
        "zone": zone,
        "ambigu": "1" if rivals else "0",
        # Short prefixes start hundreds of names: "*" stands for "any name the text starts".
        "equivalents": "*" if len(rivals) > 50 else "|".join(sorted(rivals)),
    }


def hit(results: list[dict], row: dict[str, str], top: int) -> tuple[bool, bool]:
    """Return (expected commune in the first `top`, first answer equally good) for one query."""
    got = [("dep:" + p["code"]) if p["type"] == "departement" else p.get("code") for p in results]
    exact = row["attendu"] in got[:top]
    if row["equivalents"] == "*":
        fair = bool(results) and results[0]["match"] in ("exact", "debut")
    else:
        fair = bool(got) and (got[0] == row["attendu"] or got[0] in row["equivalents"].split("|"))
    return exact, fair


def _timed(conn: sqlite3.Connection, text: str, runs: int = 3) -> tuple[list[dict], float]:
    """Resolve a text `runs` times; return the answer and the fastest time in ms.

    The fastest of a few runs is the query's own cost: on a shared machine a single timing
    also measures whoever else had the CPU.
    """
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        results = resolve.resolve(conn, text, limit=5)
        best = min(best, (time.perf_counter() - started) * 1000)
    return results, best


def evaluate(conn: sqlite3.Connection, rows: list[dict[str, str]]) -> dict:
    """Run every query; return per-transformation counts and latencies."""
    stats: dict[str, dict] = defaultdict(
        lambda: {"n": 0, "top1": 0, "top5": 0, "amb": 0, "amb_fair": 0, "amb_top5": 0, "ms": []}
    )
    misses = []
    for row in rows:
        results, ms = _timed(conn, row["requete"])
        top1, fair = hit(results, row, 1)
        top5, _ = hit(results, row, 5)
        for key in (row["transformation"], f"zone:{row['zone']}", "TOTAL"):
            s = stats[key]
            s["ms"].append(ms)
            if row["ambigu"] == "1":
                s["amb"] += 1
                s["amb_fair"] += fair
                s["amb_top5"] += top5
            else:
                s["n"] += 1
                s["top1"] += top1
                s["top5"] += top5
        if row["ambigu"] == "0" and not top1:
            misses.append((row, [p.get("code") for p in results[:3]]))
    return {"stats": stats, "misses": misses}


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}" if b else "    -"


def report(result: dict, out=sys.stdout) -> None:
    stats = result["stats"]
    print(
        f"{'transformation':30} {'n':>5} {'top1%':>6} {'top5%':>6} | {'ambigus':>7} {'1er ok%':>7} "
        f"{'top5%':>6} | {'p50 ms':>6} {'p99 ms':>6}",
        file=out,
    )
    order = [k for k in stats if not k.startswith("zone:") and k != "TOTAL"] + [
        "zone:aura",
        "zone:france",
        "TOTAL",
    ]
    for key in order:
        s = stats[key]
        ms = sorted(s["ms"])
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(
            f"{key:30} {s['n']:5d} {_pct(s['top1'], s['n']):>6} {_pct(s['top5'], s['n']):>6} | "
            f"{s['amb']:7d} {_pct(s['amb_fair'], s['amb']):>7} {_pct(s['amb_top5'], s['amb']):>6} | "
            f"{statistics.median(ms):6.2f} {p99:6.2f}",
            file=out,
        )


def keystrokes(conn: sqlite3.Connection, ref_communes: list[Commune], rng: random.Random) -> dict:
    """Typing a name letter by letter: how many letters until the commune is first, or in the top 5."""
    first, five, never, latencies = [], [], 0, []
    for c in ref_communes:
        typed = _casual(rng, c.nom)
        got1 = got5 = None
        for n in range(1, len(typed) + 1):
            results, ms = _timed(conn, typed[:n])
            latencies.append(ms)
            codes_ = [p.get("code") for p in results]
            if got5 is None and c.code in codes_:
                got5 = n
            if c.code in codes_[:1]:
                got1 = n
                break
        if got1 is None:
            never += 1
        else:
            first.append(got1 / len(typed))
        five.append((got5 or len(typed)) / len(typed))
    latencies.sort()
    return {
        "first": statistics.mean(first) if first else 1.0,
        "five": statistics.mean(five),
        "never": never,
        "n": len(ref_communes),
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99)],
    }


def _started_by(conn: sqlite3.Connection, row: dict[str, str]) -> set[str]:
    """Return the places whose name starts with the query's name (glued, any spelling)."""
    q = resolve._read(row["requete"])
    key = names.glued(q.key)
    found = set()
    for cle, kind, code in conn.execute("SELECT cle, kind, code FROM noms"):
        if any(s.startswith(key) and s != key for s in _spellings(cle)):
            found.add(f"dep:{code}" if kind == "departement" else code)
    return found


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=config.load()["DB"])
    parser.add_argument("--per", type=int, default=200, help="queries per transformation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--read", help="evaluate this CSV instead of generating queries")
    parser.add_argument("--write", help="write the generated queries to this CSV and stop")
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE: another scoring weight")
    parser.add_argument("--misses", type=int, default=0, help="print this many unambiguous misses")
    parser.add_argument("--typing", type=int, default=200, help="communes typed letter by letter")
    args = parser.parse_args(argv)
    if not Path(args.db).is_file():
        print(f"Store missing: {args.db} (run `locator build --db {args.db}`)", file=sys.stderr)
        return 1
    conn = connect(args.db)
    for setting in args.set:
        name, value = setting.split("=", 1)
        if not hasattr(resolve, name):
            print(f"Unknown weight: {name}", file=sys.stderr)
            return 2
        current = getattr(resolve, name)
        parsed = ast.literal_eval(value) if isinstance(current, tuple) else type(current)(value)
        setattr(resolve, name, parsed)

    rss_before = _rss_kb()
    seconds = resolve.warm(conn)
    rss_after = _rss_kb()
    tracemalloc.start()
    spare = resolve._build(conn)  # a second, throw-away build, to count what the index holds
    resolve._static(spare, HOME)
    index_mb = tracemalloc.get_traced_memory()[0] / 1e6
    del spare
    tracemalloc.stop()
    print(
        f"index: built in {seconds * 1000:.0f} ms on first use; {index_mb:.1f} MB allocated "
        f"(tracemalloc); process RSS {rss_before / 1024:.1f} MB before, {rss_after / 1024:.1f} MB after"
    )

    if args.read:
        with open(args.read, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    else:
        started = time.perf_counter()
        rows = generate(conn, args.per, args.seed)
        print(f"{len(rows)} queries generated in {time.perf_counter() - started:.1f} s (seed {args.seed})")
    if args.write:
        with open(args.write, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        print(f"written: {args.write}")
        return 0

    result = evaluate(conn, rows)
    report(result)
    prefix_policy = sum(1 for row, got in result["misses"] if got and got[0] in _started_by(conn, row))
    print(
        f"unambiguous misses: {len(result['misses'])}, of which {prefix_policy} give first a commune whose "
        "name the text starts (the typing policy: « Le Puy » → Le Puy-en-Velay)"
    )
    for row, got in result["misses"][: args.misses]:
        print(f"  miss {row['transformation']:28} {row['requete']!r:45} want {row['attendu']} got {got}")
    if args.typing:
        ref = load(conn)
        rng = random.Random(args.seed)
        for zone, pool in (("aura", ref.aura), ("france", ref.france)):
            k = keystrokes(conn, rng.sample(pool, min(args.typing // 2, len(pool))), rng)
            print(
                f"typing ({zone}, {k['n']} communes letter by letter): first after {100 * k['first']:.0f} % "
                f"of the name, in the top 5 after {100 * k['five']:.0f} %, never first: {k['never']}; "
                f"latency p50 {k['p50']:.2f} ms, p99 {k['p99']:.2f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

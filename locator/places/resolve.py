"""resolve(text) → places: communes (current, former, arrondissements), départements, points.

A text is read, in this order, as: coordinates, a département code ("63", "2A", "974"), a
postcode or INSEE code ("63600", "2A004"), then a name with its noise ("63600 Ambert",
"Ambert (63)", "mairie d'Ambert", "Clermont-Ferrand Cedex 1").

Coordinates are latitude then longitude in WGS84 degrees, with decimal points separated by a
comma, a semicolon or spaces ("45.77,3.08", "45.77 3.08"), or with decimal commas separated by
a space or a semicolon ("45,77 3,08", "45,77;3,08"). Two whole numbers ("45,3") are not
coordinates. A pair that only makes sense in metropolitan France as longitude, latitude
("3.08, 45.77") is read that way and the answer says so.

Names are matched in memory against three spellings of every name, glued (without spaces): as
written, without its article, without its linking words ("lepuyenvelay", "puyenvelay",
"puyvelay"). A text can equal one of them (exact), start one of them (typing), or be one or two
typos away (rapidfuzz over the spellings of similar length). Every candidate gets a score in
decades of population, lower is better: the match's penalty, minus log10(population), plus a
penalty outside the home région, minus a bonus when the text also gives its postcode or
département. scripts/eval_resolve.py measures the result on messy queries built from the
reference data and justifies the weights below.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
import sqlite3
import sys
import threading
import time
from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from ..geo import codes, names
from ..geo.distance import valid_lat_lon
from ..store import communes as store_communes
from .communes import commune_at

# --- Scoring, in decades of population (a penalty of 1 is worth a commune 10 times larger). ---
# Compare other values with `scripts/eval_resolve.py --set NAME=VALUE`. PREFIX is pinned by two
# wishes: at 2.5 "Clermont" gives Clermont (74, 409 inhabitants) before Clermont-Ferrand; at 0.75
# "Saint-Just" gives Saint-Just-Saint-Rambert before Saint-Just (Ain). OUTSIDE_REGION is a policy
# (home région first): lower values gain a few foreign homonyms on a uniform sample of France.
OUTSIDE_REGION = 2.5  # outside the home région, a commune needs ~300× the inhabitants to come first
FORMER = 1.0  # a former commune (déléguée, associée) comes after a current commune of the same size
DEPARTEMENT = 0.3  # "Paris": the commune before the département of the same name
DEPARTEMENT_POPULATION = 100_000  # a département ranks like a town of this size, not like its people
SPELLING = (0.0, 0.2, 0.4)  # the name as written, without its article, without its linking words
DROPPED = (0.0, 4.0, 4.0)  # words of the text left out to match: an article, linking words
PREFIX = 1.5  # the name goes on after the text (typing): "clermont" → Clermont-Ferrand before Clermont (74)
PER_CHAR = 0.01  # among equals, the shortest completion first
MID_WORD = 2.0  # a name typed in full, continued mid-word: "Albert" is Albert before Albertville
ACROSS_WORDS = 1.0  # a start that only matches glued: "chalons" is not the start of "Chalon-sur-Saône"
TYPO = 3.0  # per edit: an exact name comes before a corrected one of similar size ("Albert" ≠ Ambert)
POSTCODE = 6.0  # bonus: the commune is served by a postcode written in the text
DEPARTEMENT_HINT = 6.0  # bonus: the commune is in the département written in the text ("Ambert (63)")
ARRONDISSEMENT_FIRST = -100.0  # "Lyon 3e": the arrondissement the text names, before anything else

MAX_TEXT = 200  # characters read: a name with its noise is far shorter
# Words a name's run may span in a noisy text: the longest commune name has 8 ("Saint-Remy-en-
# Bouzemont-Saint-Genest-et-Isson"), and a word typed in two halves adds one.
MAX_NAME_WORDS = 12
# Postcodes read in a text (an address holds one; each is looked up).
MAX_POSTCODES = 3
CANDIDATES = 30  # completions taken from each prefix range before the final ranking

_LATLON = re.compile(r"^\s*(-?\d{1,3}(?:[.,]\d+)?)\s*°?\s*(?:[,;]\s*|\s+)(-?\d{1,3}(?:[.,]\d+)?)\s*°?\s*$")
_POSTCODE_IN = re.compile(r"(?<![\w])(\d{5})(?![\w])")
# After normalisation: "cedex 2", "bp 12", "cs 30012", "tsa 40001", "france" are never part of a name.
_NOISE = re.compile(r"\b(?:cedex(?:\s*\d{1,2})?|(?:b\s?p|cs|tsa)\s*\d{1,6}|france)\b")
_NOISE_PREFIX = re.compile(
    r"^(?:(?:la\s+)?(?:mairie|commune|ville|village|hotel\s+de\s+ville|habitant\w*)\s+|"
    r"(?:j\s+)?habite\s+|je\s+suis\s+|pres\s+|vers\s+|a\s+)+"
)
_OF_ARTICLE = {"du": "le", "des": "les"}
_DEPARTEMENT_HINT = re.compile(r"^(?:\d{2}|2a|2b|97[1-6])$")
_ORDINALS = {
    w: n
    for n, ws in enumerate(
        (
            ("premier", "premiere"),
            ("deuxieme", "second", "seconde"),
            ("troisieme",),
            ("quatrieme",),
            ("cinquieme",),
            ("sixieme",),
            ("septieme",),
            ("huitieme",),
            ("neuvieme",),
            ("dixieme",),
            ("onzieme",),
            ("douzieme",),
            ("treizieme",),
            ("quatorzieme",),
            ("quinzieme",),
            ("seizieme",),
            ("dix septieme",),
            ("dix huitieme",),
            ("dix neuvieme",),
            ("vingtieme",),
        ),
        start=1,
    )
    for w in ws
}
_ORDINAL = r"(?:\d{1,2}\s*(?:e|er|ere|re|eme|ieme|em|me|nd|nde)?|" + "|".join(_ORDINALS) + ")"
_ARRONDISSEMENT = re.compile(
    rf"^(?:(?P<city>paris|lyon|marseille)\s*(?P<n>{_ORDINAL})(?:\s+arr\w*)?"
    rf"|(?P<n2>{_ORDINAL})\s+arr\w*\s+(?:de\s+)?(?P<city2>paris|lyon|marseille))$"
)

_MATCH_NAMES = ("exact", "debut", "approche")
EXACT, START, TYPOS = range(3)


@dataclass
class _Index:
    """Glued spellings → entries (names), sorted for prefixes, grouped by length for typos.

    Kept small for the web workers: postings are flat integer arrays (entry << 2 | spelling),
    repeated strings (kinds, régions, départements) are shared.
    """

    keys: list[str] = field(default_factory=list)  # sorted distinct spellings
    start: array = field(default_factory=lambda: array("l"))  # key i's postings: post[start[i]:start[i+1]]
    post: array = field(default_factory=lambda: array("l"))
    by_length: dict[int, list[str]] = field(default_factory=dict)
    by_initial: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (initial, length)
    kind: list[str] = field(default_factory=list)  # per entry: commune, arrondissement, deleguee...
    code: list[str] = field(default_factory=list)  # the current commune's code (or the département's)
    cle: list[str] = field(default_factory=list)  # the normalised name, words separated
    departement: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    log_population: array = field(default_factory=lambda: array("d"))
    former_names: dict[int, str] = field(default_factory=dict)  # entry → name of a former commune
    departements: dict[str, str] = field(default_factory=dict)
    static: dict[str, tuple[array, array]] = field(default_factory=dict)  # région → (entries, keys)

    def postings(self, position: int) -> array:
        return self.post[self.start[position] : self.start[position + 1]]


_cache: dict[str, _Index] = {}
_lock = threading.Lock()


def _store_key(conn: sqlite3.Connection) -> str:
    return store_communes.reference_checksum(conn) or ""


def _index(conn: sqlite3.Connection) -> _Index:
    """Return the name index of this store, built on first use and kept per reference version."""
    key = _store_key(conn)
    idx = _cache.get(key)
    if idx is not None:
        return idx
    with _lock:
        if key not in _cache:
            idx = _build(conn)
            _cache.clear()  # one reference version is served at a time
            _cache[key] = idx
        return _cache[key]


def warm(conn: sqlite3.Connection, region: str = codes.REGION_AURA) -> float:
    """Build the name index now (e.g. when a worker starts) and return the seconds it took."""
    started = time.perf_counter()
    _static(_index(conn), region)
    return time.perf_counter() - started


def _build(conn: sqlite3.Connection) -> _Index:
    idx = _Index()
    shared = sys.intern
    rank = store_communes.ranking(conn)
    dep_region = {d["code"]: d["region"] for d in store_communes.departements(conn)}
    rows = store_communes.all_names(conn)
    formers: dict[str, int] = defaultdict(int)
    for _cle, kind, code, _nom in rows:
        if kind in ("deleguee", "associee"):
            formers[code] += 1
    pairs: list[tuple[str, int]] = []  # (spelling, entry << 2 | spelling number)
    for e, (cle, kind, code, nom) in enumerate(rows):
        if kind == "departement":
            region, population = dep_region.get(code, ""), DEPARTEMENT_POPULATION
            dep = code
            idx.departements[code] = nom
        else:
            region, population = rank.get(code, ("", 0))
            dep = codes.departement_of_insee(code)
            if kind in ("deleguee", "associee"):
                idx.former_names[e] = nom
                # The former commune's own population is not in the store: share the current one's.
                population = population / (formers[code] + 1)
        idx.kind.append(shared(kind))
        idx.code.append(code)
        idx.cle.append(cle)
        idx.departement.append(shared(dep))
        idx.region.append(shared(region))
        idx.log_population.append(math.log10(population + 10))
        seen = set()
        for n, spelling in enumerate(_spellings_of(cle)):
            if spelling not in seen:
                seen.add(spelling)
                pairs.append((spelling, (e << 2) | n))
    del rows
    pairs.sort()
    for spelling, packed in pairs:
        if not idx.keys or idx.keys[-1] != spelling:
            idx.keys.append(spelling)
            idx.start.append(len(idx.post))
        idx.post.append(packed)
    idx.start.append(len(idx.post))
    del pairs
    by_length: dict[int, list[str]] = defaultdict(list)
    by_initial: dict[tuple[str, int], list[str]] = defaultdict(list)
    for k in idx.keys:
        by_length[len(k)].append(k)
        by_initial[(k[0], len(k))].append(k)
    idx.by_length = dict(by_length)
    idx.by_initial = dict(by_initial)
    return idx


def _spellings_of(cle: str) -> tuple[str, str, str]:
    """Return the glued spellings of a key: as written, without article, without linking words."""
    return names.glued(cle), names.glued(names.strip_article(cle)), names.glued(names.skeleton(cle))


def _static(idx: _Index, region: str) -> tuple[array, array]:
    """Return the score of every entry and the best score of every key, for one home région."""
    cached = idx.static.get(region)
    if cached is not None:
        return cached
    with _lock:
        if region in idx.static:
            return idx.static[region]
        entry = array("d")
        for e, kind in enumerate(idx.kind):
            penalty = OUTSIDE_REGION if idx.region[e] != region else 0.0
            if kind in ("deleguee", "associee"):
                penalty += FORMER
            elif kind == "departement":
                penalty += DEPARTEMENT
            entry.append(penalty - idx.log_population[e])
        best = array("d")
        post, start = idx.post, idx.start
        for i in range(len(idx.keys)):
            best.append(min(entry[p >> 2] + SPELLING[p & 3] for p in post[start[i] : start[i + 1]]))
        idx.static[region] = (entry, best)
        return idx.static[region]


def _position(idx: _Index, key: str) -> int | None:
    i = bisect.bisect_left(idx.keys, key)
    return i if i < len(idx.keys) and idx.keys[i] == key else None


def _range(keys: list[str], prefix: str) -> tuple[int, int]:
    return bisect.bisect_left(keys, prefix), bisect.bisect_left(keys, prefix + "\uffff")


@dataclass
class _Text:
    """What a query says once its noise is taken out."""

    key: str  # normalised; the last word as typed when unfinished (it may start a longer word)
    expanded: str  # the same with every abbreviation expanded ("st" → "saint")
    finished: bool  # the name's last word is complete (a separator or other words follow it)
    postcodes: list[str]
    departement: str | None


def _read(text: str, strip_prefix: bool = True) -> _Text:
    """Split a query into its name and its noise: postcodes, département, cedex, "mairie de"."""
    postcodes = list(dict.fromkeys(_POSTCODE_IN.findall(text)))[:MAX_POSTCODES]  # each a query
    body = _POSTCODE_IN.sub(" ", text)
    departement = None
    paren = re.search(r"\(\s*(\d{2,3}|2[abAB])\s*\)", body)
    if paren:
        departement = codes.normalize_departement(paren.group(1))
        body = body[: paren.start()] + " " + body[paren.end() :]
    words = _NOISE.sub(" ", " ".join(names.words(body))).split()
    if strip_prefix:
        words = _NOISE_PREFIX.sub("", " ".join(words)).split()
        if words and words[0] in _OF_ARTICLE:  # "mairie du Puy-en-Velay" → "le puy en velay"
            words[0] = _OF_ARTICLE[words[0]]
        elif len(words) > 1 and words[0] in ("de", "d"):  # "mairie d'Ambert" → "ambert"
            words = words[1:]
    if departement is None and len(words) > 1 and not _ARRONDISSEMENT.match(" ".join(words)):
        for i in (-1, 0):  # "Ambert 63", "63 Ambert"
            if _DEPARTEMENT_HINT.match(words[i]):
                departement = codes.normalize_departement(words[i])
                del words[i]
                break
    typed = names.words(text)
    finished = names.ends_with_separator(text) or not words or typed[-1:] != words[-1:]
    expanded = [names.expand(w) for w in words]
    # The last word being typed is not an abbreviation: "saint-s" is not "saint sur".
    key = expanded if finished else expanded[:-1] + words[-1:]
    return _Text(" ".join(key), " ".join(expanded), finished, postcodes, departement)


def _latlon(text: str) -> tuple[float, float, bool] | None:
    """Read "lat,lon" with decimal points, or "lat lon" / "lat;lon" with decimal commas.

    Returns (lat, lon, swapped): a pair that only makes sense in metropolitan France as
    (longitude, latitude) is read that way, and said so.
    """
    m = _LATLON.match(text)
    if not m or not any(c in g for g in m.groups() for c in ".,"):
        return None
    a, b = (float(g.replace(",", ".")) for g in m.groups())
    if not _in_metropole(a, b) and _in_metropole(b, a):
        return b, a, True
    return (a, b, False) if valid_lat_lon(a, b) else None


def _in_metropole(lat: float, lon: float) -> bool:
    return 41.0 <= lat <= 51.5 and -5.5 <= lon <= 10.0


class _Ranking:
    """Best score per entry, with how it matched."""

    def __init__(self, idx: _Index, entry_score: array):
        self.idx = idx
        self.entry_score = entry_score
        self.best: dict[int, tuple[float, int]] = {}

    def add(self, packed: int, penalty: float, how: int) -> None:
        e, s = packed >> 2, packed & 3
        score = penalty + SPELLING[s] + self.entry_score[e]
        old = self.best.get(e)
        if old is None or score < old[0]:
            self.best[e] = (score, how)

    def add_key(self, position: int, penalty: float, how: int) -> None:
        for p in self.idx.postings(position):
            self.add(p, penalty, how)


def _typos(length: int) -> int:
    """Edits tolerated in a text of this length (glued): none below 4 letters, 3 from 13."""
    return 0 if length < 4 else 1 if length < 7 else 2 if length < 13 else 3


def _typo_penalty(edits: int, length: int) -> float:
    """Return the penalty of `edits` typos in a text of `length` letters: heavier in short texts."""
    return TYPO * edits * (1 + 3 / length)


def _spelled(cle: str, spelling: int) -> str:
    """Return spelling 0, 1 or 2 of a normalised key, words separated (see _spellings_of)."""
    return cle if spelling == 0 else names.strip_article(cle) if spelling == 1 else names.skeleton(cle)


def _variants(key: str, keep_last: bool) -> dict[str, tuple[int, str]]:
    """Return the glued spellings of a query key → (spelling, spaced spelling), first kept.

    With keep_last, the last word stays even if it is a linking word: it is being typed.
    """
    words = key.split()
    skeleton = names.skeleton(key)
    if keep_last and words and words[-1] in names.STOPWORDS:
        skeleton = " ".join([*names.skeleton(" ".join(words[:-1])).split(), words[-1]])
    out: dict[str, tuple[int, str]] = {}
    for s, spaced in enumerate((key, names.strip_article(key), skeleton)):
        g = names.glued(spaced)
        if g and g not in out:
            out[g] = (s, spaced)
    return out


def _exact(idx: _Index, ranking: _Ranking, q: _Text) -> None:
    """Add the entries whose names the text spells (article or linking words left out or not)."""
    for spelling, (s, _spaced) in _variants(q.key, keep_last=not q.finished).items():
        pos = _position(idx, spelling)
        if pos is not None:
            ranking.add_key(pos, DROPPED[s], EXACT)


def _starts(idx: _Index, ranking: _Ranking, q: _Text, static_keys: array, exact: bool) -> None:
    """Add the best-ranked names that the text starts (typing), abbreviation expanded or not."""
    starts = _variants(q.key, keep_last=not q.finished)
    if q.expanded != q.key:  # "st" may be typing "Strasbourg" or mean "Saint"
        for spelling, variant in _variants(q.expanded, keep_last=not q.finished).items():
            starts.setdefault(spelling, variant)
    for spelling, (s, spaced) in starts.items():
        lo, hi = _range(idx.keys, spelling)
        for pos in heapq.nsmallest(CANDIDATES, range(lo, hi), key=static_keys.__getitem__):
            extra = len(idx.keys[pos]) - len(spelling)
            if not extra:
                continue
            for p in idx.postings(pos):
                name = _spelled(idx.cle[p >> 2], p & 3)
                if not name.startswith(spaced):
                    cut = ACROSS_WORDS  # "chalons" glued into "chalonsursaone"
                elif exact and name[len(spaced)] != " ":
                    cut = MID_WORD  # "albert", a name, is less likely the start of "albertville"
                else:
                    cut = 0.0  # "le puy" into "le puy en velay"
                ranking.add(p, DROPPED[s] + PREFIX + cut + PER_CHAR * extra, START)


def _typos_whole(idx: _Index, ranking: _Ranking, q: _Text) -> None:
    """Add the names one to three typos away from the text (transpositions count as one).

    Names of the same initial are tried first (a first letter is seldom mistyped), all names
    of a similar length only when nothing at all was found (they are many).
    """
    variants = [(spelling, s) for spelling, (s, _spaced) in _variants(q.key, keep_last=False).items()]
    found = False
    for same_initial in (True, False):
        for spelling, s in variants:
            n, k = len(spelling), _typos(len(spelling))
            if not k:
                continue
            if same_initial:
                pool = [
                    key for m in range(n - k, n + k + 1) for key in idx.by_initial.get((spelling[0], m), ())
                ]
            else:
                pool = [key for m in range(n - k, n + k + 1) for key in idx.by_length.get(m, ())]
            for key, d, _i in process.extract(
                spelling, pool, scorer=OSA.distance, score_cutoff=k, limit=CANDIDATES
            ):
                if d:
                    found = True
                    ranking.add_key(_position(idx, key), DROPPED[s] + _typo_penalty(d, n), TYPOS)
        if found or ranking.best:
            return


def _typos_start(idx: _Index, ranking: _Ranking, q: _Text, static_keys: array) -> None:
    """Add the names whose start is a few typos away from the text being typed."""
    typed = names.glued(q.key)
    n, k = len(typed), _typos(len(typed))
    if not k:
        return
    # The typo is near where the text stops starting any name: compare with the starts of the
    # names that share the text up to a few letters before that point.
    valid = 1
    while valid < n and _range(idx.keys, typed[: valid + 1])[0] != _range(idx.keys, typed[: valid + 1])[1]:
        valid += 1
    lo, hi = _range(idx.keys, typed[: max(2, valid - 2)])
    starts_of = list(dict.fromkeys(key[:n] for key in idx.keys[lo:hi] if len(key) > n))
    for start, d, _i in process.extract(typed, starts_of, scorer=OSA.distance, score_cutoff=k, limit=10):
        if d:
            a, b = _range(idx.keys, start)
            for pos in heapq.nsmallest(CANDIDATES, range(a, b), key=static_keys.__getitem__):
                ranking.add_key(pos, PREFIX + _typo_penalty(d, n), TYPOS)


def _match_names(idx: _Index, ranking: _Ranking, q: _Text, static_keys: array, typos: bool = True) -> None:
    """Add the names the text spells and those it starts; only then, those with typos."""
    _exact(idx, ranking, q)
    exact = bool(ranking.best)
    _starts(idx, ranking, q, static_keys, exact)
    if exact or not typos:
        return  # a text that spells a name is not a typo of another one ("Albert" is not Ambert)
    started = bool(ranking.best)
    _typos_whole(idx, ranking, q)
    if not started and not q.finished:
        _typos_start(idx, ranking, q, static_keys)


def _match_postcode_communes(
    conn: sqlite3.Connection, idx: _Index, ranking: _Ranking, q: _Text, served: set[str]
) -> None:
    """Compare the text with the names of the communes its postcode serves, more tolerantly."""
    wanted = list(_variants(q.key, keep_last=False))
    typed = names.glued(q.key)
    k = _typos(len(typed)) + 1
    for code in served:
        commune = store_communes.get(conn, code)
        if commune is None:
            continue
        noms = [commune["nom"]] + [o["nom"] for o in store_communes.anciennes_of(conn, code)]
        for nom in noms:
            best = None
            for spelling in _spellings_of(names.normalize(nom)):
                for w in wanted:
                    d = OSA.distance(w, spelling, score_cutoff=k)
                    if d <= k and (best is None or _typo_penalty(d, len(w)) < best[0]):
                        best = (_typo_penalty(d, len(w)), EXACT if d == 0 else TYPOS)
                if not q.finished and len(spelling) > len(typed):
                    d = OSA.distance(typed, spelling[: len(typed)], score_cutoff=k)
                    if d <= k and (best is None or PREFIX + _typo_penalty(d, len(typed)) < best[0]):
                        best = (PREFIX + _typo_penalty(d, len(typed)), START if d == 0 else TYPOS)
            if best is None:
                continue
            entry = _entry_of(idx, nom, code)
            if entry is not None:
                ranking.add(entry << 2, best[0], best[1])


def _entry_of(idx: _Index, nom: str, code: str) -> int | None:
    """Return the index entry of a name of a commune, or None."""
    pos = _position(idx, names.glued(names.normalize(nom)))
    if pos is None:
        return None
    for p in idx.postings(pos):
        if idx.code[p >> 2] == code and idx.kind[p >> 2] != "departement":
            return p >> 2
    return None


def _match_words(idx: _Index, ranking: _Ranking, q: _Text) -> None:
    """Last resort for noisy texts: the longest run of words that is exactly a name."""
    words = q.key.split()
    # Runs no longer than a name can be: trying every run of a 100-word text cost words³ characters.
    for size in range(min(len(words) - 1, MAX_NAME_WORDS), 0, -1):
        for start in range(len(words) - size, -1, -1):
            spelling = "".join(words[start : start + size])
            pos = _position(idx, spelling)
            if pos is not None and len(spelling) >= 3:
                ranking.add_key(pos, DROPPED[2], EXACT)
        if ranking.best:
            return


def _arrondissement(key: str, postcodes: list[str]) -> str | None:
    """Return the INSEE code of the arrondissement a text names ("lyon 3e", "lyon 69003"), or None."""
    m = _ARRONDISSEMENT.match(key)
    if m:
        city = m.group("city") or m.group("city2")
        n = m.group("n") or m.group("n2")
        number = _ORDINALS[n] if n in _ORDINALS else int(re.match(r"\d+", n).group())
        return codes.arrondissement_code(codes.PLM_NAMES[city], number)
    if key in codes.PLM_NAMES:
        for cp in postcodes:
            code = codes.arrondissement_of_postcode(cp)
            if code and code.startswith(codes.PLM_NAMES[key][:2]):
                return code
    return None


def _commune_place(conn, code: str, match: str, note: str | None = None) -> dict[str, Any] | None:
    commune = store_communes.get(conn, code)
    if commune is None:
        return None
    return {
        "type": "commune",
        "code": code,
        "nom": commune["nom"],
        "commune": commune,
        "match": match,
        "note": note,
    }


def _former_place(conn, old: dict[str, Any], match: str) -> dict[str, Any] | None:
    current = store_communes.get(conn, old["commune"])
    if current is None:
        return None
    note = names.former_note(old["nom"], old["type"], current["nom"])
    return _commune_place(conn, old["commune"], match, note)


def _homonyms_home_first(
    idx: _Index, best: dict[tuple[str, str], tuple[float, int, int]], region: str
) -> list[tuple[tuple[str, str], tuple[float, int, int]]]:
    """Order the places by score, then give communes of the same name their slots home région first.

    DESIGN.md: ambiguous names rank the home région first, then population. The score weighs the
    région softly (so "le puy" still finds Le Puy-en-Velay before the exact Le Puy of Gironde); among
    true homonyms matched the same way, the rule is strict: Saint-Pierre (15) before Saint-Pierre (974).
    """
    ordered = sorted(best.items(), key=lambda item: (item[1][0], item[0][1]))
    groups: dict[tuple[str, int], list[int]] = {}
    for i, ((kind, _code), (_score, how, e)) in enumerate(ordered):
        if kind == "commune" and e >= 0:
            groups.setdefault((idx.cle[e], how), []).append(i)
    for slots in groups.values():
        if len(slots) > 1:
            members = sorted(
                (ordered[i] for i in slots), key=lambda item: (idx.region[item[1][2]] != region, item[1][0])
            )
            for i, item in zip(slots, members, strict=True):
                ordered[i] = item
    return ordered


def _population_score(commune: dict[str, Any], region: str) -> float:
    outside = OUTSIDE_REGION if commune["region"] != region else 0.0
    return outside - math.log10((commune["population"] or 0) + 10)


def _by_code(conn: sqlite3.Connection, code: str, region: str, limit: int) -> list[dict[str, Any]]:
    """A postcode gives all its communes (arrondissements first); an INSEE code its commune."""
    places: dict[str, dict[str, Any]] = {}
    for insee in store_communes.by_postcode(conn, code):
        found = [_commune_place(conn, insee, "code_postal")]
        if found[0] is None:  # a former commune's own code in the postcode list: its current commune
            found = [_former_place(conn, old, "code_postal") for old in store_communes.ancienne(conn, insee)]
        for place in found:
            if place is not None:
                places.setdefault(place["code"], place)
    ranked = sorted(
        places.values(),
        key=lambda p: (p["commune"]["type"] != "ARM", _population_score(p["commune"], region), p["code"]),
    )
    by_insee = [_commune_place(conn, code, "code_insee")]
    by_insee += [
        _former_place(conn, old, "code_insee_ancien")
        for old in store_communes.ancienne(conn, code)
        if old["commune"] != code
    ]
    # A code that is both a postcode and an INSEE code: its INSEE commune right after the best one.
    at = min(1, len(ranked))
    for place in by_insee:
        if place is not None and place["code"] not in places:
            places[place["code"]] = place
            ranked.insert(at, place)
            at += 1
    return ranked[:limit]


def resolve(
    conn: sqlite3.Connection, text: str, limit: int = 10, region: str = codes.REGION_AURA
) -> list[dict[str, Any]]:
    """Return the places a text may mean, best first (see DESIGN.md "Lookup semantics")."""
    text = (text or "")[:MAX_TEXT].strip()
    limit = max(1, min(limit, 1000))
    if not text:
        return []
    point = _latlon(text)
    if point is not None:
        lat, lon, swapped = point
        commune = commune_at(conn, lat, lon)
        note = "Coordonnées lues dans l’ordre longitude, latitude." if swapped else None
        return [
            {
                "type": "point",
                "latitude": lat,
                "longitude": lon,
                "commune": commune,
                "match": "coordonnees",
                "note": note,
            }
        ]
    idx = _index(conn)
    compact = "".join(text.split())
    dep = codes.normalize_departement(compact)
    if dep and dep in idx.departements:
        return [
            {
                "type": "departement",
                "code": dep,
                "nom": idx.departements[dep],
                "match": "code_departement",
                "note": None,
            }
        ]
    if codes.is_postcode(compact) or codes.is_insee_code(compact):
        return _by_code(conn, compact.upper(), region, limit)

    q = _read(text)
    raw = _read(text, strip_prefix=False)
    if raw.key != q.key and _position(idx, names.glued(raw.key)) is not None:
        q = raw  # "Ville-en-Sallaz", "Vers": a name that starts like noise
    if not q.key:
        if q.postcodes:
            return _by_code(conn, q.postcodes[0], region, limit)
        if q.departement in idx.departements:
            return resolve(conn, q.departement, limit, region)
        return []
    entry_score, static_keys = _static(idx, region)
    ranking = _Ranking(idx, entry_score)
    arrondissement = _arrondissement(q.key, q.postcodes)
    _match_names(idx, ranking, q, static_keys, typos=arrondissement is None)
    served: set[str] = set()
    for cp in q.postcodes:
        served.update(store_communes.by_postcode(conn, cp))
    if served:
        _match_postcode_communes(conn, idx, ranking, q, served)
    if not ranking.best and len(q.key.split()) > 1:
        _match_words(idx, ranking, q)
    hinted = {q.departement} if q.departement else set()
    for cp in q.postcodes:  # even a CEDEX postcode, which serves no commune, tells the département
        hinted.update(("2A", "2B") if cp.startswith("20") else (codes.departement_of_insee(cp),))

    best: dict[tuple[str, str], tuple[float, int, int]] = {}
    for e, (score, how) in ranking.best.items():
        code = idx.code[e]
        if code in served:
            score -= POSTCODE
        if idx.departement[e] in hinted:
            score -= DEPARTEMENT_HINT
        place = ("departement" if idx.kind[e] == "departement" else "commune", code)
        if place not in best or score < best[place][0]:
            best[place] = (score, how, e)
    if arrondissement:
        best[("commune", arrondissement)] = (ARRONDISSEMENT_FIRST, EXACT, -1)

    places: list[dict[str, Any]] = []
    for (kind, code), (_score, how, e) in _homonyms_home_first(idx, best, region):
        if kind == "departement":
            places.append(
                {
                    "type": "departement",
                    "code": code,
                    "nom": idx.departements[code],
                    "match": _MATCH_NAMES[how],
                    "note": None,
                }
            )
        elif e < 0:
            place = _commune_place(conn, code, "arrondissement")
            if place:
                places.append(place)
        else:
            note = None
            if e in idx.former_names:
                current = store_communes.get(conn, code)
                if current:
                    note = names.former_note(
                        idx.former_names[e], "COMD" if idx.kind[e] == "deleguee" else "COMA", current["nom"]
                    )
            place = _commune_place(conn, code, _MATCH_NAMES[how], note)
            if place:
                places.append(place)
        if len(places) >= limit:
            break
    return places

"""Finding the stored structure a row may repeat, at a cost that does not grow with piles.

Only structures stored before the import began are candidates (rows of the file are told apart by
the file's own id check), so each commune and each grid cell is read from the store once, then kept:
exact keys (normalised name + type + commune) by dictionary, near-duplicates by rapidfuzz against a
bounded candidate set (blocking on the name's words, capped per block).
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from ..geo import names
from ..store import structures as store_structures

NEAR_DUPLICATE_SCORE = 92
# In the same commune, two names whose meaningful words are this alike (one set of words inside the
# other scores 100: « ML Vichy » and « Mission locale de Vichy et sa région ») make a probable duplicate.
COMMUNE_DUPLICATE_SCORE = 90
# Abbreviations of the network's names, read as their words when names are compared.
ORG_ABBREVIATIONS = {
    "ml": "mission locale",
    "mlj": "mission locale jeunes",
    "pij": "point information jeunesse",
}
_NOT_A_LETTER = re.compile(r"[\W_]+")
CELL_DEG = 0.02  # about 2 km: a 50 m box touches at most four cells
BLOCK_CAP = 64  # a word shared by more stored names than this is too common to block on
MAX_CACHED = 4096  # communes and cells kept (least recently used dropped): memory stays bounded
# A store with at most this many structures is read in one statement when the import begins (a few
# megabytes); a bigger one is read commune by commune and cell by cell, as rows need them.
PRELOAD_MAX = 20_000


@dataclass
class _Cell:
    """Stored structures located in one grid cell, with their names' blocking keys."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)  # (id, nom, type, statut, lat, lon, key)
    blocks: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class _Alike:
    """Stored names of one commune as their meaningful words, with the rows each word appears in."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # (words, id, nom, type)
    blocks: dict[str, list[int]] = field(default_factory=dict)


_EMPTY = _Cell()  # a cell where the preloaded store has nothing (never written to)


def block_keys(key: str) -> set[str]:
    """Return the blocking keys of a normalised name: its words and the start of its glued form."""
    out = {w for w in key.split() if len(w) > 1 and w not in names.STOPWORDS}
    out.add("#" + names.glued(key)[:5])
    return out


def org_words(key: str) -> str:
    """Return the meaningful words of a normalised name, abbreviations of the network spelled out."""
    spelled = " ".join(ORG_ABBREVIATIONS.get(w, w) for w in key.split())
    return " ".join(w for w in spelled.split() if w not in names.STOPWORDS)


def _numbers(words: str) -> set[str]:
    """The words of a name that hold a digit (a number tells two offices apart)."""
    return {w for w in words.split() if any(c.isdigit() for c in w)}


def same_but_for_form(stored: str | None, new: str | None) -> bool:
    """Tell whether two different texts differ only by case, accents, spaces or punctuation."""
    if not stored or not new or stored == new:
        return False
    return _NOT_A_LETTER.sub("", names.fold(stored)) == _NOT_A_LETTER.sub("", names.fold(new))


def similarity(key: str, other: str) -> float:
    """Return how alike two normalised names are (0–100), word order and glued words aside."""
    return max(fuzz.token_sort_ratio(key, other), fuzz.ratio(names.glued(key), names.glued(other)))


class Matcher:
    """Exact-key and near-duplicate lookups against the structures stored when the import began."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.max_pk = store_structures.max_pk(conn)
        # commune → name key → [(id, type, nom)]
        self._communes: OrderedDict[str, dict[str, list[tuple[str, str, str]]]] = OrderedDict()
        self._cells: OrderedDict[tuple[int, int], _Cell] = OrderedDict()
        self._alike_cache: OrderedDict[str, _Alike] = OrderedDict()
        self._complete = False  # True: every stored structure is in the caches (absent = none there)
        self._ids: set[str] = set()  # when complete: every stored id
        if self.max_pk <= PRELOAD_MAX:
            self._preload()

    def _preload(self) -> None:
        """Read the whole (small) store once: no statement per row for communes and cells."""
        located: list[tuple[Any, ...]] = []
        drafts: list[tuple[Any, ...]] = []
        for sid, nom, type_, statut, lat, lon, code in store_structures.snapshot(self.conn, self.max_pk):
            key = names.normalize(nom)
            self._ids.add(sid)
            if code:
                self._communes.setdefault(code, {}).setdefault(key, []).append((sid, type_, nom))
            if lat is not None and lon is not None and statut in ("publie", "brouillon"):
                (located if statut == "publie" else drafts).append((sid, nom, type_, statut, lat, lon, key))
        for row in located + drafts:  # published first, then drafts, as `located_in_box` gives them
            cell = self._cells.setdefault(
                (math.floor(row[4] / CELL_DEG), math.floor(row[5] / CELL_DEG)), _Cell()
            )
            for b in block_keys(row[6]):
                cell.blocks.setdefault(b, []).append(len(cell.rows))
            cell.rows.append(row)
        self._complete = True

    def may_be_stored(self, structure_id: str) -> bool:
        """Tell whether the store may hold this id (False only when the store, read whole, does not)."""
        return not self._complete or structure_id in self._ids

    @staticmethod
    def _touch(cache: OrderedDict, key: Any, load) -> Any:
        value = cache.get(key)
        if value is None:
            value = cache[key] = load()
            if len(cache) > MAX_CACHED:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return value

    def _commune(self, code: str) -> dict[str, list[tuple[str, str, str]]]:
        def load() -> dict[str, list[tuple[str, str, str]]]:
            keys: dict[str, list[tuple[str, str, str]]] = {}
            for sid, nom, type_ in store_structures.names_in_commune(self.conn, code, self.max_pk):
                keys.setdefault(names.normalize(nom), []).append((sid, type_, nom))
            return keys

        if self._complete:
            return self._communes.get(code, {})
        return self._touch(self._communes, code, load)

    def same_name_in_commune(self, key: str, code: str, types: Sequence[str], skip) -> str | None:
        """Return the id of the first stored structure of these types with this name key in the commune."""
        return next((sid for sid in self.same_names_in_commune(key, code, types) if sid not in skip), None)

    def same_names_in_commune(self, key: str, code: str, types: Sequence[str]) -> list[str]:
        """Return the ids of the stored structures of these types with this name key in the commune."""
        return [sid for sid, type_, _nom in self._commune(code).get(key, ()) if type_ in types]

    def _alike(self, code: str) -> _Alike:
        """The stored names of a commune as meaningful words, blocked by word (built once per commune)."""

        def load() -> _Alike:
            found = _Alike()
            for key, rows in self._commune(code).items():
                for sid, type_, nom in rows:
                    words = org_words(key)
                    if len(words.split()) < 2:
                        continue
                    for w in set(words.split()):
                        found.blocks.setdefault(w, []).append(len(found.rows))
                    found.rows.append((words, sid, nom, type_))
            return found

        return self._touch(self._alike_cache, code, load)

    def alike_in_commune(self, key: str, code: str, types: Sequence[str], skip) -> tuple[str, str] | None:
        """Return (id, nom) of the stored structure of these types in the commune named most alike, when
        their meaningful words are close enough to ask whether they are the same (None otherwise)."""
        mine = org_words(key)
        if len(mine.split()) < 2:  # one word (« Antenne ») says nothing of which structure it is
            return None
        alike = self._alike(code)
        blocks = [alike.blocks[w] for w in set(mine.split()) if w in alike.blocks]
        if not blocks:
            return None
        small = [b for b in blocks if len(b) <= BLOCK_CAP]
        # Every word is common in this commune (a pile of permanences): the rarest block, capped.
        picked = small or [min(blocks, key=len)[:BLOCK_CAP]]
        best, best_score = None, COMMUNE_DUPLICATE_SCORE
        numbers = _numbers(mine)
        for index in sorted({x for b in picked for x in b}):
            words, sid, nom, type_ = alike.rows[index]
            if type_ not in types or sid in skip or _numbers(words) != numbers:
                continue  # « Permanence 2 » is not « Permanence 12 », nor « Permanence »
            score = fuzz.token_set_ratio(mine, words, score_cutoff=best_score)
            if score > best_score or (best is None and score >= best_score):
                best, best_score = (sid, nom), score
        return best

    def _cell(self, i: int, j: int) -> _Cell:
        def load() -> _Cell:
            cell = _Cell()
            box = (i * CELL_DEG, (i + 1) * CELL_DEG, j * CELL_DEG, (j + 1) * CELL_DEG)
            for sid, nom, type_, statut, lat, lon in store_structures.located_in_box(
                self.conn, box, self.max_pk
            ):
                key = names.normalize(nom)
                for b in block_keys(key):
                    cell.blocks.setdefault(b, []).append(len(cell.rows))
                cell.rows.append((sid, nom, type_, statut, lat, lon, key))
            return cell

        if self._complete:
            return self._cells.get((i, j), _EMPTY)
        return self._touch(self._cells, (i, j), load)

    def _candidates(self, key: str, box: tuple[float, float, float, float]) -> Iterable[tuple[Any, ...]]:
        """Yield stored rows in the box that share a not-too-common blocking key with the name."""
        wanted = block_keys(key)
        for i in range(math.floor(box[0] / CELL_DEG), math.floor(box[1] / CELL_DEG) + 1):
            for j in range(math.floor(box[2] / CELL_DEG), math.floor(box[3] / CELL_DEG) + 1):
                cell = self._cell(i, j)
                blocks = [cell.blocks[b] for b in wanted if b in cell.blocks]
                if not blocks:
                    continue
                small = [b for b in blocks if len(b) <= BLOCK_CAP]
                # Every word of the name is common here: the rarest block, capped, still gets compared.
                picked = small or [min(blocks, key=len)[:BLOCK_CAP]]
                for index in sorted({x for b in picked for x in b}):
                    yield cell.rows[index]

    def near_duplicate(
        self, key: str, box: tuple[float, float, float, float], types: Sequence[str], skip
    ) -> tuple[str, str] | None:
        """Return (id, nom) of a stored, non-archived structure of these types in the box, named alike."""
        return next((found for found in self.near_duplicates(key, box, types) if found[0] not in skip), None)

    def near_duplicates(
        self, key: str, box: tuple[float, float, float, float], types: Sequence[str]
    ) -> Iterator[tuple[str, str]]:
        """Yield (id, nom) of each stored, non-archived structure of these types in the box, named alike."""
        for sid, nom, type_, statut, lat, lon, other in self._candidates(key, box):
            if type_ not in types or statut == "archive":
                continue
            if not (box[0] <= lat <= box[1] and box[2] <= lon <= box[3]):
                continue
            if _numbers(key) == _numbers(other) and similarity(key, other) >= NEAR_DUPLICATE_SCORE:
                yield sid, nom

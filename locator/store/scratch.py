"""Scratch maps for one import, kept in TEMP tables of its connection so Python memory stays flat."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator

_numbers = itertools.count(1)


class Scratch:
    """A text → text map in a TEMP table (dropped by `close`, or with the connection).

    A fixed-size bit filter (Bloom's) remembers which keys may be set: a key it has never seen, as most
    keys of an import are, is claimed or looked up without a statement, and memory stays flat.
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.table = f"temp.scratch_{next(_numbers)}"
        conn.execute(f"CREATE TEMP TABLE {self.table.split('.')[1]} (k TEXT PRIMARY KEY, v TEXT)")
        self._added: dict[str, str] = {}  # `add`ed (or claimed while new), not written yet
        self._size = FILTER_BITS
        self._bits = bytearray((FILTER_BITS + 7) // 8)

    def _slots(self, key: str) -> tuple[int, int]:
        h = hash(key)
        return h % self._size, (h // self._size) % self._size

    def _mark(self, key: str) -> None:
        for slot in self._slots(key):
            self._bits[slot >> 3] |= 1 << (slot & 7)

    def _may_hold(self, key: str) -> bool:
        """False when the key was surely never set (no false "no"; sometimes a false "maybe")."""
        return all(self._bits[slot >> 3] & (1 << (slot & 7)) for slot in self._slots(key))

    def add(self, key: str, value: str) -> None:
        """Set a key that is not set yet (a set key keeps its value); written with the next ones."""
        self._mark(key)
        self._added.setdefault(key, value)
        if len(self._added) >= ADDED_BATCH:
            self._write_added()

    def _write_added(self) -> None:
        if self._added:
            self.conn.executemany(
                f"INSERT OR IGNORE INTO {self.table} (k, v) VALUES (?, ?)", self._added.items()
            )
            self._added = {}

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return the value of a key, or `default`."""
        if not self._may_hold(key):
            return default
        self._write_added()
        row = self.conn.execute(f"SELECT v FROM {self.table} WHERE k = ?", (key,)).fetchone()
        return row[0] if row else default

    def __contains__(self, key: object) -> bool:
        return self.get(str(key)) is not None

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: str) -> None:
        self._write_added()
        self._mark(key)
        self.conn.execute(f"INSERT OR REPLACE INTO {self.table} (k, v) VALUES (?, ?)", (key, value))

    def setdefault(self, key: str, value: str) -> str:
        """Set a key that is not set yet; return its value."""
        self._write_added()
        self._mark(key)
        self.conn.execute(f"INSERT OR IGNORE INTO {self.table} (k, v) VALUES (?, ?)", (key, value))
        return self[key]

    def claim(self, key: str, value: str) -> str | None:
        """Set a key that is not set yet and return None, or return the value it already has."""
        if not self._may_hold(key):  # surely new: written with the next ones
            self.add(key, value)
            return None
        self._write_added()
        cur = self.conn.execute(f"INSERT OR IGNORE INTO {self.table} (k, v) VALUES (?, ?)", (key, value))
        return None if cur.rowcount == 1 else self.get(key)

    def close(self) -> None:
        """Drop the table."""
        self._added = {}
        self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")


# Keys `Scratch.add` keeps before writing them in one statement.
ADDED_BATCH = 500
# The filter's size: 1 MiB, two bits per key; a million keys still leave 95 % of the new ones known new.
FILTER_BITS = 1 << 23


class Spool:
    """A queue of texts in a TEMP table, read back in the order written (dropped by `close`)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.table = f"spool_{next(_numbers)}"
        conn.execute(f"CREATE TEMP TABLE {self.table} (n INTEGER PRIMARY KEY, v TEXT NOT NULL)")

    def append(self, value: str) -> None:
        """Add a text at the end."""
        self.conn.execute(f"INSERT INTO temp.{self.table} (v) VALUES (?)", (value,))

    def __iter__(self) -> Iterator[str]:
        last = 0
        while True:  # a few hundred at a time: the caller may query the connection in between
            rows = self.conn.execute(
                f"SELECT n, v FROM temp.{self.table} WHERE n > ? ORDER BY n LIMIT 500", (last,)
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            for row in rows:
                yield row[1]

    def close(self) -> None:
        """Drop the table."""
        self.conn.execute(f"DROP TABLE IF EXISTS temp.{self.table}")

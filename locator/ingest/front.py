"""The first half of a big offline import, in a second process: reading the file, cleaning each row's
cells and placing it in its commune (GeoPandas), while the importing process matches and writes the
rows before. The two halves share nothing but the reference geography, which imports never change:
the second process reads it through its own read-only connection, and sends each chunk of rows as
`RowPipeline.front` leaves them. The machine has two cores; a small file does not pay for a process.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..store import db as store_db
from .geocoders import Geocoder, OfflineGeocoder
from .pipeline import Fronted, Options, RowPipeline

# A file smaller than this is read in the importing process: starting the second one (a fresh
# interpreter loading the app and GeoPandas, about a second) would cost more than it saves.
MIN_BYTES = 1024 * 1024


def store_path(conn: sqlite3.Connection) -> Path | None:
    """Return the file of the store's main database (None for an in-memory one)."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


def worth_it(conn: sqlite3.Connection, source: Path | bytes, geocoder: Geocoder, wanted: bool | None) -> bool:
    """Tell whether this import reads its file in a second process.

    `wanted`: True or False forces the choice (tests compare both); None decides by the file's size.
    Only the offline geocoder is used there (an online one keeps its cache of answers in this process).
    """
    if wanted is False or type(geocoder) is not OfflineGeocoder or store_path(conn) is None:
        return False
    if wanted:
        return True
    size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    return size >= MIN_BYTES


class Front:
    """The second process reading and placing a file's rows, chunk after chunk, in order.

    A fresh interpreter (a forked copy would inherit this process's open store and its locks;
    multiprocessing's spawn would run the caller's script again in it): the job goes down its standard
    input, the chunks come back through a pipe of their own, pickled.
    """

    def __init__(
        self, store: Path, source: Path | bytes, filename: str, options: Options, chunk_rows: int
    ) -> None:
        read_end, write_end = os.pipe()
        root = str(Path(__file__).resolve().parents[2])  # where this `locator` is, checkout or wheel
        try:
            self._process = subprocess.Popen(  # noqa: S603 — this interpreter, this code, two numbers
                [sys.executable, "-I", "-c", _START, root, str(write_end)],
                stdin=subprocess.PIPE,
                pass_fds=(write_end,),
            )
        finally:
            os.close(write_end)  # the child holds it: its exit ends the pipe
        self._chunks = os.fdopen(read_end, "rb")
        try:
            pickle.dump((str(store), source, filename, options, chunk_rows), self._process.stdin)
            self._process.stdin.close()
        except OSError:  # the child died at once: `chunks` says so
            pass

    def chunks(self) -> Iterator[list[Fronted]]:
        """Yield the rows chunk after chunk; raise what stopped the second process."""
        while True:
            try:
                kind, payload = pickle.load(self._chunks)  # noqa: S301 — our own child's pipe, no one else's
            except (EOFError, pickle.UnpicklingError):
                raise RuntimeError("la lecture du fichier s’est arrêtée avant sa fin") from None
            if kind == "lignes":
                yield payload
            elif kind == "fin":
                return
            else:
                raise payload

    def close(self) -> None:
        """Stop the second process (at once when the import ends early) and wait for it."""
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()
        self._chunks.close()


def _work(
    out: BinaryIO, store: str, source: Path | bytes, filename: str, options: Options, chunks: int
) -> None:
    """The second process: open the file and the store, send each chunk read and placed, then "fin"."""
    from .importer import open_rows

    def send(message: tuple[str, Any]) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    conn = store_db.connect(store)
    try:
        pipeline = RowPipeline(conn, OfflineGeocoder(), options, offline=True)
        chunk: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        for item in open_rows(source, filename, options):
            chunk.append(item)
            if len(chunk) >= chunks:
                send(("lignes", pipeline.front(chunk, ask=True)))
                chunk = []
        if chunk:
            send(("lignes", pipeline.front(chunk, ask=True)))
        send(("fin", None))
    except BrokenPipeError:  # the import ended early and stopped reading: nothing to say
        pass
    except Exception as err:  # the importing process raises it, as it would have raised it itself
        try:
            send(("erreur", err))
        except BrokenPipeError:
            pass
        except Exception:  # an error that cannot be pickled: its text
            send(("erreur", RuntimeError(str(err))))
    finally:
        conn.close()


def main(fd: int) -> None:
    """The second process's start: the job on standard input, the chunks out through `fd`."""
    job = pickle.load(sys.stdin.buffer)  # noqa: S301 — written by the importing process that started us
    with os.fdopen(fd, "wb") as out:
        _work(out, *job)


# Run by a fresh interpreter in isolated mode (no current directory, no PYTHON* variables on its path),
# with this very `locator` first on its path: the child runs the code its parent runs.
_START = "; ".join(
    [
        "import sys",
        "sys.path.insert(0, sys.argv[1])",
        "from locator.ingest.front import main",
        "main(int(sys.argv[2]))",
    ]
)

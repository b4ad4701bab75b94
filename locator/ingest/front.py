"""The first half of a big offline import, in a second process: reading the file, cleaning each row's
cells and placing it in its commune (GeoPandas), while the importing process matches and writes the
rows before. The second process reads the store as it was before the import (the reference geography,
which imports never change, and the structures the matching asks about) through its own read-only
connection, and sends each chunk of rows as `RowPipeline.front` leaves them; the importing process
applies what the rows before changed. The machine has two cores; a small file does not pay for a process.
"""

from __future__ import annotations

import os
import pickle
import queue
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..store import db as store_db
from . import collector
from .geocoders import Geocoder, OfflineGeocoder
from .pipeline import Fronted, Options, RowPipeline

# A file smaller than this is read in the importing process: starting the second one (a fresh
# interpreter loading GeoPandas, half a second to its first chunk) and pickling the rows both ways cost
# what it saves on about 10,000 rows (1.3 MB of the bench's mixed file); 20,000 rows gain × 1.14–1.21.
MIN_BYTES = 3 * 512 * 1024


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


class Stopped(RuntimeError):
    """The second process ended without sending the whole file (killed, out of memory...)."""


class Front:
    """The second process reading and placing a file's rows, chunk after chunk, in order.

    A fresh interpreter (a forked copy would inherit this process's open store and its locks;
    multiprocessing's spawn would run the caller's script again in it): the job goes down its standard
    input, the chunks come back through a pipe of their own, pickled.
    """

    def __init__(
        self,
        store: Path,
        source: Path | bytes,
        filename: str,
        options: Options,
        chunk_rows: int,
        ask: bool | None = None,
    ) -> None:
        """`ask`: whether the second process also puts the store's questions about each row (None: when
        this process is the slower one, as its full queue tells the other)."""
        read_end, write_end = os.pipe()
        root = str(Path(__file__).resolve().parents[2])  # where this `locator` is, checkout or wheel
        # What the child could not send (it died starting, or was killed) is kept for the message.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 — closed by `close`
        try:
            self._process = subprocess.Popen(  # noqa: S603 — this interpreter, this code, two numbers
                [sys.executable, "-P", "-c", _START, root, str(write_end)],
                stdin=subprocess.PIPE,
                stderr=self._stderr,
                pass_fds=(write_end,),
            )
        finally:
            os.close(write_end)  # the child holds it: its exit ends the pipe
        self._pipe = os.fdopen(read_end, "rb")
        try:
            pickle.dump((str(store), source, filename, options, chunk_rows, ask), self._process.stdin)
            self._process.stdin.close()
        except OSError:  # the child died at once: `chunks` says so
            pass
        # Chunks are taken off the pipe as they come, so the other process never waits for this one
        # while a chunk or two are still to be done here.
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self._stopping = threading.Event()
        self._reader = threading.Thread(target=self._read, name="locator-import-front", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stopping.is_set():
            try:
                message = pickle.load(self._pipe)  # noqa: S301 — our own child's pipe, no one else's
            except (EOFError, OSError, ValueError, pickle.UnpicklingError):
                message = ("coupé", None)
            self._queue.put(message)  # waits while this process is a few chunks behind
            if message[0] != "lignes":
                return

    def chunks(self) -> Iterator[list[Fronted]]:
        """Yield the rows chunk after chunk; raise what stopped the second process."""
        while True:
            kind, payload = self._queue.get()
            if kind == "lignes":
                yield payload
            elif kind == "fin":
                return
            elif kind == "coupé":
                raise Stopped(
                    f"La lecture du fichier s’est arrêtée avant sa fin{self._last_words()} : rien n’a été "
                    "importé."
                )
            else:
                raise payload

    def _last_words(self) -> str:
        """The last line the second process wrote on its error output (its exception), if any."""
        self._process.wait()
        self._stderr.seek(0)
        lines = self._stderr.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
        return f" ({lines[-1][:300]})" if lines else f" (code de sortie {self._process.returncode})"

    def close(self) -> None:
        """Stop the second process (at once when the import ends early) and wait for it."""
        self._stopping.set()
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()
        # The pipe ended with the process: the reader puts at most one more message (room is made for
        # it), then sees the stop.
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._reader.join()
        self._pipe.close()
        self._stderr.close()


# Whether the second process answers the store's questions: None lets it decide chunk by chunk (tests
# set True or False: the import is the same either way).
ASK: bool | None = None
# Chunks read and waiting for the importing process (a few megabytes of rows at most).
QUEUED_CHUNKS = 4
# A chunk whose sending waited this long (seconds) tells the second process the first is the slower:
# it then answers the store's questions too, until sending flows again.
SLOWER_AFTER = 0.005


def _work(
    out: BinaryIO,
    store: str,
    source: Path | bytes,
    filename: str,
    options: Options,
    chunks: int,
    ask: bool | None,
) -> None:
    """The second process: open the file and the store, send each chunk read and placed, then "fin"."""
    from .importer import open_rows

    asking = bool(ask)

    def send(message: tuple[str, Any]) -> None:
        nonlocal asking
        started = time.perf_counter()
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        if ask is None:
            asking = time.perf_counter() - started > SLOWER_AFTER

    conn = store_db.connect(store)
    try:
        pipeline = RowPipeline(conn, OfflineGeocoder(), options, offline=True)
        chunk: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        settling = collector.Settling(1)  # the process ends with the file: nothing to give back
        for item in open_rows(source, filename, options):
            chunk.append(item)
            if len(chunk) >= chunks:
                send(("lignes", pipeline.front(chunk, ask=asking)))
                settling.step()
                chunk = []
        if chunk:
            send(("lignes", pipeline.front(chunk, ask=asking)))
        send(("fin", None))
    except BrokenPipeError:  # the import ended early and stopped reading: nothing to say
        pass
    except Exception as err:  # the importing process raises it, as it would have raised it itself
        try:
            send(("erreur", err))
        except BrokenPipeError:
            pass
        except Exception:  # an error that cannot be pickled: its text
            send(("erreur", Stopped(f"La lecture du fichier s’est arrêtée : {err} ; rien n’a été importé.")))
    finally:
        conn.close()


def main(fd: int) -> None:
    """The second process's start: the job on standard input, the chunks out through `fd`."""
    job = pickle.load(sys.stdin.buffer)  # noqa: S301 — written by the importing process that started us
    with os.fdopen(fd, "wb") as out:
        _work(out, *job)


# Run by a fresh interpreter without the current directory on its path (-P), with this very `locator`
# first on it: the child runs the code its parent runs, whatever the directory the import is run from.
_START = "; ".join(
    [
        "import sys",
        "sys.path.insert(0, sys.argv[1])",
        "from locator.ingest.front import main",
        "main(int(sys.argv[2]))",
    ]
)

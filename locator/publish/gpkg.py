"""GeoPackage files for the web: written by a child process, kept in a cache directory per store content.

A web worker never imports GeoPandas, pandas or pyogrio (tens of MB each): it asks `cached()` for a
file named after `fingerprint()`, a hash of the rows the layer holds, and, when it is missing, runs
`python -m locator.publish.gpkg STORE LAYER OUTPUT` and waits for it. Any change of those rows changes
the fingerprint, so a stale file is never served; older files of the layer are then removed.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from ..store import structures as store_structures

LAYERS = ("structures", "territoires")
# Part of every fingerprint: a change in how files are written makes new ones.
FORMAT = "gpkg-1"


class ExportFailed(Exception):
    """The child process could not write the file (its French reason is the message)."""


def fingerprint(conn: sqlite3.Connection, layer: str) -> str:
    """Return a short hash of every row the layer would hold (published structures, or territories)."""
    digest = hashlib.sha256(f"{FORMAT} {layer}".encode())
    if layer == "structures":
        rows = store_structures.all_stored(conn, ("publie",), published_parents=True)
        for r in rows:
            digest.update(repr(sorted(r.items())).encode())
    else:
        cursor = conn.execute(
            "SELECT t.*, s.nom, s.departement FROM territoires t JOIN structures s ON s.id = t.structure_id "
            "WHERE s.statut = 'publie' ORDER BY t.structure_id"
        )
        for r in cursor:
            digest.update(repr(tuple(r)).encode())
    return digest.hexdigest()[:20]


def cached(store: str | Path, layer: str, directory: str | Path, timeout: float, content: str) -> Path:
    """Return the GeoPackage of one layer whose rows have the fingerprint `content`, writing it if needed."""
    if layer not in LAYERS:
        raise ValueError(layer)
    directory = Path(directory).resolve()  # relative to the working directory, like the store's path
    target = directory / f"{layer}-{content}.gpkg"
    if target.is_file():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    # Written beside its final name then renamed: a reader never sees half a file, and two workers
    # asking at once each write their own copy of the same content.
    fd, part = tempfile.mkstemp(prefix=f".{layer}-", suffix=".gpkg", dir=directory)
    os.close(fd)
    os.unlink(part)  # GDAL creates the file itself
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    try:
        # Our own interpreter and module; the store path and layer are the app's, not a request's.
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "locator.publish.gpkg", str(store), layer, part],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        if done.returncode != 0 or not Path(part).is_file():
            raise ExportFailed(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "échec")
        os.replace(part, target)
    except subprocess.TimeoutExpired:
        raise ExportFailed(f"plus de {timeout:g} s") from None
    finally:
        if os.path.exists(part):
            os.unlink(part)
    for old in directory.glob(f"{layer}-*.gpkg"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def main(argv: list[str]) -> int:
    """Write one layer of a store to a GeoPackage file (the child process `cached()` runs)."""
    from .exports import write_gpkg

    store, layer, output = argv
    write_gpkg(store, output, (layer,))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

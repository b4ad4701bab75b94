"""A fault drill run inside its own mount namespace (`unshare --map-root-user --mount`).

Usage: python fault_scenario.py full|readonly STORE CSV. Mounts a private tmpfs, puts a copy of the
store on it, serves it with `locator serve`, then makes the disk full or read-only, tries an import,
reads over HTTP, and prints one JSON object with what happened. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from locator.testing import serve_in_background

BIN = Path(sys.executable).parent


def digest(path: Path) -> str:
    """A hash of every structure row (what an import would change), read without writing."""
    uri = f"{path.as_uri()}?mode=ro&immutable=1" if mode == "readonly" else f"{path.as_uri()}?mode=ro"
    with sqlite3.connect(uri, uri=True) as c:
        rows = c.execute("SELECT * FROM structures ORDER BY id").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0  # nothing answered


mode, source, csv_file = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
mount = Path(tempfile.mkdtemp())
size_mb = source.stat().st_size // 1_000_000 + 8
subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount)], check=True)
store = mount / "locator.sqlite"
shutil.copyfile(source, store)
if mode == "readonly":
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
result: dict = {}
try:
    with serve_in_background(store, command=[BIN / "locator"]) as base:
        result["read_before"] = get(base + "/api/v1/structures?commune=63003&limit=3")
        before = digest(store)
        if mode == "full":
            with open(mount / "remplissage", "wb") as filler:  # fill every free byte of the disk
                try:
                    while True:
                        filler.write(b"\0" * 65536)
                        filler.flush()
                except OSError:
                    pass
        imported = subprocess.run(
            [BIN / "locator", "import", str(csv_file), "--db", str(store), "--json"],
            capture_output=True,
            text=True,
        )
        result["import_exit"] = imported.returncode
        result["import_output"] = imported.stdout + imported.stderr
        result["unchanged"] = digest(store) == before
        result["read_after"] = get(base + "/api/v1/structures?commune=63003&limit=3")
        result["page_after"] = get(base + "/recherche?q=Ambert")
except RuntimeError as err:  # the server did not start: said in the result, the test fails on it
    result["server_error"] = str(err)[-1000:]
finally:
    subprocess.run(["umount", "-l", str(mount)], check=False)
print(json.dumps(result))
